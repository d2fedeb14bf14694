// Who may see and act on a received letter. Involvement comes first (the
// receiving unit's head and agendaris, delivery and disposisi holders); beyond
// them the one access policy (archive/access.ts) decides by security class.
// Anyone else gets 404: its existence is not revealed.
import type { Executor } from '../../platform/db/index.js';
import type { CurrentUser } from '../../platform/auth/current-user.js';
import { can } from '../../platform/auth/permissions.js';
import { activeDelegationsOf, getPosition } from '../org/hierarchy.js';
import * as repo from './repo.js';
import { loadViewer, mayView } from '../archive/access.js';

/**
 * How an addressee that is not a person reaches people. A position reaches its
 * holders; a unit its head's holders, or, where the unit routes its mail through
 * the registry (or has no head in office), its agendaris.
 */
export const ADDRESSEE_ROUTING = { position: 'holders', unit: 'head' } as const satisfies { position: 'holders'; unit: 'head' | 'agendaris' };

export async function unitRecipients(db: Executor, unitId: string): Promise<string[]> {
  const heads = ADDRESSEE_ROUTING.unit === 'head' ? await repo.unitHeadHolders(db, unitId) : [];
  return heads.length ? heads : repo.unitAgendaris(db, unitId);
}

/** The units whose whole intake this user sees: the unit they head (or stand in for as Plh./Plt.), and as agendaris the units of the agenda they keep. */
export async function intakeUnits(db: Executor, user: CurrentUser): Promise<string[]> {
  const out = new Set<string>();
  // Their own post, and a post they stand in for today as Plh./Plt.
  const acting = (await activeDelegationsOf(db, user.id, ['plh', 'plt'])).map((d) => d.principalPositionId);
  for (const positionId of [user.positionId, ...acting]) {
    if (!positionId) continue;
    const p = await getPosition(db, positionId);
    if (p?.is_head && p.active) out.add(String(p.unit_id));
  }
  if (user.unitId && can(user, 'incoming.register')) for (const u of await repo.agendaUnits(db, user.unitId)) out.add(u);
  return [...out];
}

export interface IncomingAccess {
  canView: boolean;
  /** May forward it (disposisi) and close it: the delivery's person, the unit head, a disposisi holder. */
  canDispose: boolean;
  isHead: boolean;
  /** The open disposisi addressed to this user: the parent of what they forward. */
  openToMe: string | null;
}

export async function accessToIncoming(db: Executor, user: CurrentUser, incoming: { id: string; unit_id: string; security_class: string; state: string }, tree: repo.DisposisiRow[]): Promise<IncomingAccess> {
  const id = String(incoming.id);
  const units = await intakeUnits(db, user);
  const delivered = !!(await repo.deliveryOf(db, id, user.id));
  const isHead = (await repo.unitHeadHolders(db, String(incoming.unit_id))).includes(user.id);
  const mine = tree.filter((x) => String(x.to_user_id) === user.id);
  const openToMe = mine.filter((x) => x.state === 'open').map((x) => String(x.id)).pop() ?? null;
  const involved = delivered || units.includes(String(incoming.unit_id)) || mine.length > 0 || tree.some((x) => String(x.from_user_id) === user.id);
  const canView = involved || mayView(await loadViewer(db, user, { intakeUnitIds: units }), { type: 'incoming', unitId: String(incoming.unit_id), securityClass: incoming.security_class, state: incoming.state });
  return { canView, canDispose: delivered || isHead || openToMe !== null, isHead, openToMe };
}
