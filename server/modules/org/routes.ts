// Organisation administration pages (/admin/...) and the JSON API
// (/api/v1/units, /positions, /users, /delegations). Thin: parse the form or
// query -> call the service (which decides who may) -> render or redirect.
// A refused form (400/409) is shown again with the message and the input kept.
import { Router, type Request, type Response } from 'express';
import type { AppContext } from '../../platform/context.js';
import { ROLES } from '../../platform/auth/permissions.js';
import { requireUser, requirePermission, paging } from '../../platform/http/guards.js';
import { flash } from '../../platform/http/flash.js';
import { toAppError } from '../../platform/http/error-handler.js';
import type { AppError } from '../../platform/http/errors.js';
import { orgMessages } from './messages.js';
import * as org from './service.js';
import { formatWhen } from '../../platform/i18n/dates.js';

// ---------- form helpers ----------

type Form = Record<string, string | string[] | boolean>;

const text = (body: Record<string, unknown> | undefined, k: string): string => (typeof body?.[k] === 'string' ? (body[k] as string) : '');
const checked = (body: Record<string, unknown> | undefined, k: string): boolean => body?.[k] === '1' || body?.[k] === 'on';
const list = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' && v ? [v] : []);
/** An id field of a form: empty means none. */
const idOrNull = (v: string) => (v === '' ? null : v);
const queryText = (v: unknown, max = 100) => (typeof v === 'string' ? v.trim().slice(0, max) : '');

function unitForm(body: Record<string, unknown> | undefined, withActive: boolean): Form {
  const f: Form = Object.fromEntries(['code', 'name', 'kind', 'parentId', 'address', 'phone', 'email', 'website'].map((k) => [k, text(body, k)]));
  if (withActive) f.active = checked(body, 'active');
  return f;
}
function unitInput(f: Form) {
  return { ...f, parentId: idOrNull(f.parentId as string) };
}

function positionForm(body: Record<string, unknown> | undefined, withActive: boolean): Form {
  const f: Form = { unitId: text(body, 'unitId'), code: text(body, 'code'), title: text(body, 'title'), superiorId: text(body, 'superiorId'), isHead: checked(body, 'isHead') };
  if (withActive) f.active = checked(body, 'active');
  return f;
}
function positionInput(f: Form) {
  return { ...f, superiorId: idOrNull(f.superiorId as string) };
}

function userForm(body: Record<string, unknown> | undefined, isNew: boolean): Form {
  const f: Form = { name: text(body, 'name'), nip: text(body, 'nip'), email: text(body, 'email'), positionId: text(body, 'positionId'), roles: list(body?.roles) };
  if (isNew) Object.assign(f, { username: text(body, 'username'), password: text(body, 'password') });
  return f;
}
function userInput(f: Form) {
  const { password, ...rest } = f;
  return { ...rest, positionId: idOrNull(f.positionId as string), ...(password ? { password } : {}) };
}

function delegationForm(body: Record<string, unknown> | undefined): Form {
  return Object.fromEntries(['kind', 'principalPositionId', 'delegateUserId', 'legalBasis', 'startsOn', 'endsOn', 'note'].map((k) => [k, text(body, k)]));
}

/** The form's overall message and one message per bad field. */
function formErrors(err: AppError, t: Request['t']) {
  const specific = err.messageKey !== 'error.validation';
  const fields: Record<string, string> = {};
  for (const d of Array.isArray(err.details) ? (err.details as { field?: unknown }[]) : []) {
    const field = String(d.field ?? '').split('.')[0];
    if (!field || fields[field]) continue;
    const key = `org.invalid_field.${field}`;
    fields[field] = specific ? t(err.messageKey, err.params) : t(key in orgMessages ? key : 'org.form.invalid');
  }
  return { error: specific ? t(err.messageKey, err.params) : t('org.form.fix'), errors: fields };
}

/** Bad input or a conflict: shown on the form. Anything else (403, 404, 500) goes to the error handler. */
function formRefusal(e: unknown): AppError {
  const appErr = toAppError(e);
  if (!appErr || (appErr.status !== 400 && appErr.status !== 409)) throw e;
  return appErr;
}

function formatDay(day: string, locale: string): string {
  return new Date(day + 'T00:00:00Z').toLocaleDateString(locale === 'id' ? 'id-ID' : 'en-GB', { timeZone: 'UTC', dateStyle: 'medium' });
}

// ---------- pages ----------

export function orgPages(ctx: AppContext): Router {
  const r = Router();
  const admin = requirePermission('org.manage');

  const render = (req: Request, res: Response, view: string, data: Record<string, unknown>, refusal?: AppError) => {
    res.status(refusal?.status ?? 200).render(`org/${view}`, {
      error: null,
      errors: {},
      ...(refusal ? formErrors(refusal, req.t) : {}),
      when: (d: Date | string | null) => formatWhen(d, req.locale),
      day: (d: string) => formatDay(d, req.locale),
      ...data,
    });
  };
  const activeUnits = async (req: Request) => org.flattenUnits(await org.listUnitTree(ctx, req.user!)).filter((u) => u.active);
  const activePositions = async (req: Request) => (await org.listPositions(ctx, req.user!)).filter((p) => p.active);

  // ----- units -----

  const unitsPage = async (req: Request, res: Response, form: Form, refusal?: AppError) => {
    const tree = await org.listUnitTree(ctx, req.user!);
    render(req, res, 'units', { title: req.t('org.units'), tree, parents: org.flattenUnits(tree).filter((u) => u.active), kinds: org.UNIT_KINDS, form }, refusal);
  };
  r.get('/admin/units', admin, async (req, res) => {
    await unitsPage(req, res, { ...unitForm(undefined, false), parentId: queryText(req.query.parent, 20) });
  });
  r.post('/admin/units', requireUser, async (req, res) => {
    const form = unitForm(req.body, false);
    try {
      const unit = await org.createUnit(ctx, req.user!, unitInput(form));
      flash(req, { kind: 'success', key: 'org.unit.created', params: { name: unit.name } });
      res.redirect(303, '/admin/units');
    } catch (e) {
      await unitsPage(req, res, form, formRefusal(e));
    }
  });

  const unitPage = async (req: Request, res: Response, form: Form | null, refusal?: AppError) => {
    const unit = await org.getUnit(ctx, req.user!, String(req.params.id));
    const parents = (await activeUnits(req)).filter((u) => u.id !== unit.id);
    const current = form ?? {
      code: unit.code, name: unit.name, kind: unit.kind, parentId: unit.parentId ?? '', address: unit.address ?? '',
      phone: unit.phone ?? '', email: unit.email ?? '', website: unit.website ?? '', active: unit.active,
    };
    render(req, res, 'unit', { title: req.t('org.unit.edit'), unit, parents, kinds: org.UNIT_KINDS, form: current }, refusal);
  };
  r.get('/admin/units/:id', admin, async (req, res) => {
    await unitPage(req, res, null);
  });
  r.post('/admin/units/:id', requireUser, async (req, res) => {
    const form = unitForm(req.body, true);
    try {
      const unit = await org.updateUnit(ctx, req.user!, String(req.params.id), unitInput(form));
      flash(req, { kind: 'success', key: 'org.unit.saved' });
      res.redirect(303, `/admin/units/${unit.id}`);
    } catch (e) {
      await unitPage(req, res, form, formRefusal(e));
    }
  });

  // ----- positions -----

  const positionsPage = async (req: Request, res: Response, form: Form, refusal?: AppError) => {
    const unitFilter = queryText(req.query.unit, 20);
    const [positions, units, superiors] = await Promise.all([org.listPositions(ctx, req.user!, { unitId: unitFilter || undefined }), activeUnits(req), activePositions(req)]);
    render(req, res, 'positions', { title: req.t('org.positions'), positions, units, superiors, unitFilter, form }, refusal);
  };
  r.get('/admin/positions', admin, async (req, res) => {
    await positionsPage(req, res, { ...positionForm(undefined, false), unitId: queryText(req.query.unit, 20) });
  });
  r.post('/admin/positions', requireUser, async (req, res) => {
    const form = positionForm(req.body, false);
    try {
      const p = await org.createPosition(ctx, req.user!, positionInput(form));
      flash(req, { kind: 'success', key: 'org.position.created', params: { title: p.title } });
      res.redirect(303, `/admin/positions?unit=${p.unit.id}`);
    } catch (e) {
      await positionsPage(req, res, form, formRefusal(e));
    }
  });

  const positionPage = async (req: Request, res: Response, form: Form | null, refusal?: AppError) => {
    const position = await org.getPosition(ctx, req.user!, String(req.params.id));
    const [units, superiors, chain] = await Promise.all([activeUnits(req), activePositions(req), org.superiorChain(ctx.db, position.id)]);
    const current = form ?? { unitId: position.unit.id, code: position.code, title: position.title, superiorId: position.superior?.id ?? '', isHead: position.isHead, active: position.active };
    render(req, res, 'position', { title: req.t('org.position.edit'), position, units, superiors: superiors.filter((p) => p.id !== position.id), chain: chain.slice(1), form: current }, refusal);
  };
  r.get('/admin/positions/:id', admin, async (req, res) => {
    await positionPage(req, res, null);
  });
  r.post('/admin/positions/:id', requireUser, async (req, res) => {
    const form = positionForm(req.body, true);
    try {
      const p = await org.updatePosition(ctx, req.user!, String(req.params.id), positionInput(form));
      flash(req, { kind: 'success', key: 'org.position.saved' });
      res.redirect(303, `/admin/positions/${p.id}`);
    } catch (e) {
      await positionPage(req, res, form, formRefusal(e));
    }
  });

  // ----- users -----

  r.get('/admin/users', admin, async (req, res) => {
    const p = paging(req);
    const filter = {
      q: queryText(req.query.q),
      unit: queryText(req.query.unit, 20),
      role: (ROLES as readonly string[]).includes(String(req.query.role)) ? String(req.query.role) : '',
      active: req.query.active === '1' || req.query.active === '0' ? String(req.query.active) : '',
    };
    const [out, units] = await Promise.all([
      org.listUsers(ctx, req.user!, { q: filter.q || undefined, unitId: filter.unit || undefined, role: filter.role || undefined, active: filter.active ? filter.active === '1' : undefined }, p),
      activeUnits(req),
    ]);
    const size = req.query.size ? String(p.size) : '';
    const baseQuery = new URLSearchParams(Object.entries({ ...filter, size }).filter(([, v]) => v !== '')).toString();
    render(req, res, 'users', { title: req.t('org.users'), items: out.items, total: out.total, page: p.page, pages: Math.ceil(out.total / p.size), baseQuery, filter, units, roles: ROLES });
  });

  const newUserPage = async (req: Request, res: Response, form: Form, refusal?: AppError) => {
    render(req, res, 'user-new', { title: req.t('org.user.new'), positions: await activePositions(req), roles: ROLES, form }, refusal);
  };
  r.get('/admin/users/new', admin, async (req, res) => {
    await newUserPage(req, res, userForm(undefined, true));
  });
  r.post('/admin/users', requireUser, async (req, res) => {
    const form = userForm(req.body, true);
    try {
      const out = await org.createUser(ctx, req.user!, userInput(form));
      if (out.password) flash(req, { kind: 'success', key: 'org.user.created_secret', params: { username: out.user.username }, secret: out.password });
      else flash(req, { kind: 'success', key: 'org.user.created', params: { username: out.user.username } });
      res.redirect(303, `/admin/users/${out.user.id}`);
    } catch (e) {
      // Never echo a password back into the page.
      await newUserPage(req, res, { ...form, password: '' }, formRefusal(e));
    }
  });

  const userPage = async (req: Request, res: Response, form: Form | null, refusal?: AppError) => {
    const account = await org.getUserForAdmin(ctx, req.user!, String(req.params.id));
    const current = form ?? { name: account.name, nip: account.nip ?? '', email: account.email ?? '', positionId: account.position?.id ?? '', roles: account.roles };
    render(req, res, 'user', { title: req.t('org.user.edit'), account, positions: await activePositions(req), roles: ROLES, form: current }, refusal);
  };
  r.get('/admin/users/:id', admin, async (req, res) => {
    await userPage(req, res, null);
  });
  r.post('/admin/users/:id', requireUser, async (req, res) => {
    const form = userForm(req.body, false);
    try {
      const u = await org.updateUser(ctx, req.user!, String(req.params.id), userInput(form));
      flash(req, { kind: 'success', key: 'org.user.saved' });
      res.redirect(303, `/admin/users/${u.id}`);
    } catch (e) {
      await userPage(req, res, form, formRefusal(e));
    }
  });
  r.post('/admin/users/:id/active', requireUser, async (req, res) => {
    const active = text(req.body, 'active') === '1';
    try {
      const u = await org.updateUser(ctx, req.user!, String(req.params.id), { active });
      flash(req, { kind: 'success', key: active ? 'org.user.activated' : 'org.user.deactivated' });
      res.redirect(303, `/admin/users/${u.id}`);
    } catch (e) {
      await userPage(req, res, null, formRefusal(e));
    }
  });
  r.post('/admin/users/:id/reset-password', requireUser, async (req, res) => {
    const id = String(req.params.id);
    const { username, password } = await org.resetPassword(ctx, req.user!, id);
    flash(req, { kind: 'success', key: 'org.user.reset_done', params: { username }, secret: password });
    res.redirect(303, `/admin/users/${id}`);
  });

  // ----- delegations -----

  const delegationsPage = async (req: Request, res: Response, form: Form, refusal?: AppError) => {
    const p = paging(req);
    const status = req.query.status === 'all' ? 'all' : 'current';
    const [out, positions, users] = await Promise.all([
      org.listDelegations(ctx, req.user!, { status }, p),
      activePositions(req),
      // The form's list of delegates: every active account.
      org.listUsers(ctx, req.user!, { active: true }, { size: 5000, offset: 0 }),
    ]);
    render(req, res, 'delegations', {
      title: req.t('org.delegations'), items: out.items, total: out.total, page: p.page, pages: Math.ceil(out.total / p.size),
      baseQuery: `status=${status}`, status, positions, users: users.items, kinds: org.DELEGATION_KINDS, form,
    }, refusal);
  };
  r.get('/admin/delegations', admin, async (req, res) => {
    await delegationsPage(req, res, delegationForm(undefined));
  });
  r.post('/admin/delegations', requireUser, async (req, res) => {
    const form = delegationForm(req.body);
    try {
      await org.createDelegation(ctx, req.user!, form);
      flash(req, { kind: 'success', key: 'org.delegation.created' });
      res.redirect(303, '/admin/delegations');
    } catch (e) {
      await delegationsPage(req, res, form, formRefusal(e));
    }
  });
  r.post('/admin/delegations/:id/revoke', requireUser, async (req, res) => {
    try {
      await org.revokeDelegation(ctx, req.user!, String(req.params.id));
      flash(req, { kind: 'success', key: 'org.delegation.revoked' });
    } catch (e) {
      const refusal = formRefusal(e);
      flash(req, { kind: 'error', key: refusal.messageKey, params: refusal.params });
    }
    res.redirect(303, '/admin/delegations');
  });

  return r;
}

// ---------- JSON API ----------

function queryBool(v: unknown): boolean | undefined {
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  return undefined;
}
const queryString = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);

export function orgApi(ctx: AppContext): Router {
  const r = Router();

  r.get('/units', requireUser, async (req, res) => {
    res.json({ items: await org.listUnitTree(ctx, req.user!) });
  });
  r.post('/units', requireUser, async (req, res) => {
    const unit = await org.createUnit(ctx, req.user!, req.body);
    res.status(201).location(`/api/v1/units/${unit.id}`).json(unit);
  });
  r.get('/units/:id', requireUser, async (req, res) => {
    res.json(await org.getUnit(ctx, req.user!, String(req.params.id)));
  });
  r.patch('/units/:id', requireUser, async (req, res) => {
    res.json(await org.updateUnit(ctx, req.user!, String(req.params.id), req.body));
  });

  r.get('/positions', requireUser, async (req, res) => {
    res.json({ items: await org.listPositions(ctx, req.user!, { unitId: queryString(req.query.unitId) }) });
  });
  r.post('/positions', requireUser, async (req, res) => {
    const p = await org.createPosition(ctx, req.user!, req.body);
    res.status(201).location(`/api/v1/positions/${p.id}`).json(p);
  });
  r.get('/positions/:id', requireUser, async (req, res) => {
    res.json(await org.getPosition(ctx, req.user!, String(req.params.id)));
  });
  r.patch('/positions/:id', requireUser, async (req, res) => {
    res.json(await org.updatePosition(ctx, req.user!, String(req.params.id), req.body));
  });

  r.get('/users', requireUser, async (req, res) => {
    const p = paging(req);
    const filter = { q: queryString(req.query.q), unitId: queryString(req.query.unitId), role: queryString(req.query.role), active: queryBool(req.query.active) };
    const out = await org.listUsers(ctx, req.user!, filter, p);
    res.json({ items: out.items, total: out.total, page: p.page, size: p.size });
  });
  r.post('/users', requireUser, async (req, res) => {
    const out = await org.createUser(ctx, req.user!, req.body);
    res.status(201).location(`/api/v1/users/${out.user.id}`).json({ user: out.user, initialPassword: out.password });
  });
  r.get('/users/:id', requireUser, async (req, res) => {
    res.json(await org.getUser(ctx, req.user!, String(req.params.id)));
  });
  r.patch('/users/:id', requireUser, async (req, res) => {
    res.json(await org.updateUser(ctx, req.user!, String(req.params.id), req.body));
  });
  r.post('/users/:id/reset-password', requireUser, async (req, res) => {
    res.json(await org.resetPassword(ctx, req.user!, String(req.params.id)));
  });

  r.get('/delegations', requireUser, async (req, res) => {
    const p = paging(req);
    const out = await org.listDelegations(ctx, req.user!, { status: queryString(req.query.status), userId: queryString(req.query.userId), positionId: queryString(req.query.positionId) }, p);
    res.json({ items: out.items, total: out.total, page: p.page, size: p.size });
  });
  r.post('/delegations', requireUser, async (req, res) => {
    const d = await org.createDelegation(ctx, req.user!, req.body);
    res.status(201).location(`/api/v1/delegations/${d.id}`).json(d);
  });
  r.post('/delegations/:id/revoke', requireUser, async (req, res) => {
    res.json(await org.revokeDelegation(ctx, req.user!, String(req.params.id)));
  });

  return r;
}
