import express, { type Router } from 'express';
import type { AdminUiDeps } from '../app.js';

/** Placeholder until the admin pages land. */
export function adminUi(_deps: AdminUiDeps): Router {
  return express.Router();
}
