// Organisation administration (units, positions, users, delegations).
import { Router } from 'express';
import type { AppContext } from '../../platform/context.js';

export function orgPages(_ctx: AppContext): Router {
  return Router();
}

export function orgApi(_ctx: AppContext): Router {
  return Router();
}
