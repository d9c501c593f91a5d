// HTTP for administrators: organizer accounts (invite, unit and role, disable, reset access) and
// organizing units; and the one-time page where an invited organizer chooses a password.
import { Router, type Request, type Response } from 'express';
import { acceptInvitation, changeAccount, findInvitation, invitationLifetimeMs, inviteAccount, resetAccess, setAccountDisabled, updateAccount, type Invitation } from './actions.js';
import { listAccounts } from './queries.js';
import { regenerate } from './routes.js';
import { addUnit, renameUnit } from '../units/actions.js';
import { listUnits } from '../units/queries.js';
import { setFlash, takeFlash } from '../lib/flash.js';
import { absoluteUrl, actorOf, pickFields, fieldErrors, localeOf, notFoundForMalformedIds, toErrorBody, translate } from '../lib/http.js';
import { requireAdmin } from '../lib/actor.js';
import { AppError, Invalid } from '../lib/errors.js';

type Body = Record<string, unknown>;
const inviteFields = ['email', 'name', 'role', 'unitId', 'password'] as const;


function invitationView(req: Request, invitation: Invitation) {
  return {
    name: invitation.user.name,
    email: invitation.user.email,
    link: invitation.token ? absoluteUrl(req, `/invite/${invitation.token}`) : undefined,
    days: Math.round(invitationLifetimeMs / 86_400_000),
    expiresAt: invitation.expiresAt,
  };
}

async function renderAccounts(req: Request, res: Response, extra: { values?: Body; errors?: Record<string, string>; invitation?: ReturnType<typeof invitationView>; status?: number } = {}) {
  const actor = actorOf(res);
  requireAdmin(actor);
  const [accounts, units] = await Promise.all([listAccounts(actor), listUnits(actor)]);
  const values = extra.values ?? { role: 'organizer' };
  res.status(extra.status ?? 200).render('accounts/admin', {
    title: translate(res, 'accounts.adminTitle'),
    accounts: accounts.map((account) => ({ ...account, isSelf: account.id === actor.userId })),
    units: units.map((unit) => ({ ...unit, selected: unit.id === values.unitId })),
    values,
    roleAdmin: values.role === 'admin',
    errors: extra.errors ?? {},
    invitation: extra.invitation,
    ...takeFlash(req),
  });
}

/** A refused change (the last administrator, oneself) comes back to the list as a message. */
function flashError(req: Request, res: Response, error: unknown): void {
  if (!(error instanceof AppError) || error.status >= 500) throw error;
  setFlash(req, toErrorBody(error, localeOf(res)).error.message, true);
}

export function adminRoutes(): Router {
  const router = notFoundForMalformedIds(Router());

  // ---- Accounts ----------------------------------------------------------------------------

  router.get('/admin/accounts', (req, res) => renderAccounts(req, res));

  router.post('/admin/accounts', async (req, res) => {
    const values = pickFields(req.body, inviteFields);
    try {
      const invitation = await inviteAccount(actorOf(res), values);
      if (!invitation.token) {
        setFlash(req, translate(res, 'accounts.created', { name: invitation.user.name }));
        return res.redirect(303, '/admin/accounts');
      }
      await renderAccounts(req, res, { invitation: invitationView(req, invitation) });
    } catch (error) {
      if (!(error instanceof Invalid)) throw error;
      await renderAccounts(req, res, { values: { ...values, password: '' }, errors: fieldErrors(error, localeOf(res)), status: 422 });
    }
  });

  router.post('/admin/accounts/:userId', async (req, res) => {
    try {
      await updateAccount(actorOf(res), { ...pickFields(req.body, ['name', 'role', 'unitId']), userId: req.params.userId });
      setFlash(req, translate(res, 'accounts.updated'));
    } catch (error) {
      flashError(req, res, error);
    }
    res.redirect(303, '/admin/accounts');
  });

  for (const [path, disabled] of [['disable', true], ['enable', false]] as const) {
    router.post(`/admin/accounts/:userId/${path}`, async (req, res) => {
      try {
        const user = await setAccountDisabled(actorOf(res), { userId: req.params.userId }, disabled);
        setFlash(req, translate(res, disabled ? 'accounts.disabledDone' : 'accounts.enabledDone', { name: user.name }));
      } catch (error) {
        flashError(req, res, error);
      }
      res.redirect(303, '/admin/accounts');
    });
  }

  router.post('/admin/accounts/:userId/reset', async (req, res) => {
    const invitation = await resetAccess(actorOf(res), { userId: req.params.userId });
    await renderAccounts(req, res, { invitation: invitationView(req, invitation) });
  });

  router.get('/api/v1/accounts', async (_req, res) => {
    res.json({ accounts: await listAccounts(actorOf(res)) });
  });

  router.post('/api/v1/accounts', async (req, res) => {
    const invitation = await inviteAccount(actorOf(res), pickFields(req.body, inviteFields));
    const [account] = await listAccounts(actorOf(res), { userId: invitation.user.id });
    res.status(201).json({ account, invitationUrl: invitationView(req, invitation).link ?? null, expiresAt: invitation.expiresAt ?? null });
  });

  router.patch('/api/v1/accounts/:userId', async (req, res) => {
    const actor = actorOf(res);
    await changeAccount(actor, { ...pickFields(req.body, ['name', 'role', 'unitId', 'disabled']), userId: req.params.userId });
    const [account] = await listAccounts(actor, { userId: req.params.userId });
    res.json({ account });
  });

  router.post('/api/v1/accounts/:userId/reset', async (req, res) => {
    const invitation = await resetAccess(actorOf(res), { userId: req.params.userId });
    res.json({ invitationUrl: invitationView(req, invitation).link, expiresAt: invitation.expiresAt });
  });

  // ---- Units -------------------------------------------------------------------------------

  router.get('/admin/units', async (req, res) => {
    const actor = actorOf(res);
    requireAdmin(actor);
    res.render('units/list', { title: translate(res, 'units.title'), units: await listUnits(actor), values: {}, errors: {}, ...takeFlash(req) });
  });

  router.post('/admin/units', async (req, res) => {
    const actor = actorOf(res);
    try {
      const unit = await addUnit(actor, pickFields(req.body, ['name']));
      setFlash(req, translate(res, 'units.added', { name: unit.name }));
      res.redirect(303, '/admin/units');
    } catch (error) {
      if (!(error instanceof Invalid)) throw error;
      res.status(422).render('units/list', { title: translate(res, 'units.title'), units: await listUnits(actor), values: pickFields(req.body, ['name']), errors: fieldErrors(error, localeOf(res)) });
    }
  });

  router.post('/admin/units/:unitId', async (req, res) => {
    try {
      const unit = await renameUnit(actorOf(res), { unitId: req.params.unitId, name: (req.body as Body | undefined)?.name });
      setFlash(req, translate(res, 'units.renamed', { name: unit.name }));
    } catch (error) {
      flashError(req, res, error);
    }
    res.redirect(303, '/admin/units');
  });

  router.get('/api/v1/units', async (_req, res) => {
    res.json({ units: await listUnits(actorOf(res)) });
  });

  router.post('/api/v1/units', async (req, res) => {
    const unit = await addUnit(actorOf(res), pickFields(req.body, ['name']));
    res.status(201).json({ unit: { id: String(unit._id), name: unit.name } });
  });

  // ---- The invited organizer chooses a password --------------------------------------------

  router.get('/invite/:token', async (req, res) => {
    const user = await findInvitation(req.params.token);
    res.status(user ? 200 : 404).render('accounts/invite', { title: translate(res, 'accounts.invitationTitle'), user: user ? { name: user.name, email: user.email } : undefined, token: req.params.token, errors: {} });
  });

  router.post('/invite/:token', async (req, res) => {
    const user = await findInvitation(req.params.token);
    if (!user) return res.status(404).render('accounts/invite', { title: translate(res, 'accounts.invitationTitle'), errors: {} });
    try {
      const accepted = await acceptInvitation({ token: req.params.token, password: (req.body as Body | undefined)?.password });
      await regenerate(req);
      req.session.userId = accepted.id;
      req.session.accessVersion = accepted.accessVersion;
      res.redirect(303, '/meetings');
    } catch (error) {
      if (!(error instanceof Invalid)) throw error;
      res.status(422).render('accounts/invite', { title: translate(res, 'accounts.invitationTitle'), user: { name: user.name, email: user.email }, token: req.params.token, errors: fieldErrors(error, localeOf(res)) });
    }
  });

  return router;
}
