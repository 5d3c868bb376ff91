import { Router } from 'express';
import type { Registry } from 'prom-client';
import { checkMetricsAccess, type MetricsAccess } from './metrics-access.js';

/** GET /metrics: the Prometheus text exposition of the server's registry. */
export function metricsRouter(registry: Registry, access: MetricsAccess): Router {
  const r = Router();
  r.get('/metrics', async (req, res, next) => {
    try {
      await checkMetricsAccess(req, access, String(res.locals['requestId'] ?? ''));
      const text = await registry.metrics();
      res.status(200).setHeader('Content-Type', registry.contentType);
      res.setHeader('Cache-Control', 'no-store');
      res.end(text);
    } catch (err) {
      next(err);
    }
  });
  return r;
}
