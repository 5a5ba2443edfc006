import type { Request } from 'express';

// A session holds only the user's id: logging in and out is the accounts' business, whichever route
// (the dashboard's login form, the identity link's) checks the password.

/** Regenerates the session id at login, so a session id planted before login is worthless. */
export function logIn(req: Request, userId: string): Promise<void> {
  return new Promise((resolve, reject) => {
    req.session.regenerate((err) => {
      if (err) return reject(err as Error);
      req.session.userId = userId;
      req.session.save((saveErr) => (saveErr ? reject(saveErr as Error) : resolve()));
    });
  });
}

export function logOut(req: Request): Promise<void> {
  return new Promise((resolve, reject) =>
    req.session.destroy((err) => (err ? reject(err as Error) : resolve())),
  );
}
