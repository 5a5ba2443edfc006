import express, { type Router } from 'express';
import { ACL_TREE } from '../acl/magento-acl.js';
import { DEFAULT_RESOURCES, generateModule, ModuleInputError, validateModule } from '../module/generate.js';
import { zipModule } from '../module/zip.js';
import { requireLogin } from './dashboard-routes.js';

/** The module generator on the dashboard: pick resources, download the zip. */
export function moduleRoutes(deps: {
  publicUrl: () => string;
  production: boolean;
  defaultEmail: string;
}): Router {
  const router = express.Router();

  const render = (
    res: express.Response,
    csrfToken: string | undefined,
    values: {
      vendor: string;
      module: string;
      name: string;
      email: string;
      resources: string[];
      legacy: boolean;
    },
    error: string | null,
    status = 200,
  ) => {
    const url = deps.publicUrl();
    res.status(status).render('module', {
      user: res.locals.user,
      csrfToken,
      tree: ACL_TREE,
      values,
      error,
      endpointUrl: `${url}/magento/callback`,
      identityLinkUrl: `${url}/magento/identity`,
      httpWarning: url.startsWith('http:'),
    });
  };

  router.get('/module', requireLogin, (req, res) => {
    render(
      res,
      req.csrfToken?.(),
      {
        vendor: 'Acme',
        module: 'Connector',
        name: '',
        email: deps.defaultEmail,
        resources: DEFAULT_RESOURCES,
        legacy: false,
      },
      null,
    );
  });

  router.post('/module', requireLogin, async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const list = body.resources === undefined ? [] : ([] as unknown[]).concat(body.resources);
    const values = {
      vendor: String(body.vendor ?? '').trim(),
      module: String(body.module ?? '').trim(),
      name: String(body.name ?? '').trim(),
      email: String(body.email ?? '').trim(),
      resources: list.map(String),
      legacy: body.legacy === '1',
    };
    try {
      const url = deps.publicUrl();
      const generated = generateModule({
        ...values,
        name: values.name || undefined,
        endpointUrl: `${url}/magento/callback`,
        identityLinkUrl: `${url}/magento/identity`,
        // A local demo runs on http; production needs https.
        allowHttp: !deps.production,
      });
      await validateModule(generated);
      res
        .type('application/zip')
        .attachment(`${generated.moduleName}.zip`)
        .send(Buffer.from(zipModule(generated)));
    } catch (error) {
      if (!(error instanceof ModuleInputError)) throw error;
      render(res, req.csrfToken?.(), values, error.message, 400);
    }
  });

  return router;
}
