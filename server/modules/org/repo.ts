// SQL for the organisation: units, positions, users, delegations.
import type { Executor } from '../../platform/db/index.js';
import type { Insertable } from 'kysely';
import type { UnitTable, PositionTable, UserTable, DelegationTable } from '../../platform/db/schema.js';

export async function insertUnit(db: Executor, u: Insertable<UnitTable>) {
  return db.insertInto('units').values(u).returningAll().executeTakeFirstOrThrow();
}
export async function insertPosition(db: Executor, p: Insertable<PositionTable>) {
  return db.insertInto('positions').values(p).returningAll().executeTakeFirstOrThrow();
}
export async function insertUser(db: Executor, u: Insertable<UserTable>) {
  return db.insertInto('users').values(u).returningAll().executeTakeFirstOrThrow();
}
export async function insertDelegation(db: Executor, d: Insertable<DelegationTable>) {
  return db.insertInto('delegations').values(d).returningAll().executeTakeFirstOrThrow();
}
export async function countUsers(db: Executor): Promise<number> {
  const r = await db.selectFrom('users').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
  return Number(r.n);
}
