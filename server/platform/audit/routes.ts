// The auditor's view of the audit trail.
import { Router } from 'express';
import type { AppContext } from '../context.js';

export function auditPages(_ctx: AppContext): Router {
  return Router();
}

export function auditApi(_ctx: AppContext): Router {
  return Router();
}
