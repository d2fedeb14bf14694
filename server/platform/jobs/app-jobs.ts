// The application's background jobs, started by main.ts (and by tests that ask
// for them). Like app.ts for routes: the one place that lists what runs.
import type { PeriodicJob } from './index.js';
import { emailJob } from '../../modules/dispatch/email.js';
import { exchangeJob } from '../../modules/exchange/service.js';
import { replicationJob } from '../storage/replication.js';
import { scanJob } from '../storage/scan.js';
import { checkpointJob } from '../audit/checkpoints.js';

export const APP_JOBS: readonly PeriodicJob[] = [emailJob, exchangeJob, replicationJob, scanJob, checkpointJob];
