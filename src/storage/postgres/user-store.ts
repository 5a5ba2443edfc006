import type pg from 'pg';
import { DuplicateError, NotFoundError, type UserRecord, type UserStore } from '../types.js';
import { inTransaction, isUniqueViolation } from './transaction.js';

const normaliseEmail = (email: string) => email.trim().toLowerCase();

export function createPgUserStore(pool: pg.Pool): UserStore {
  const one = async (sql: string, value: string) =>
    (await pool.query<{ record: UserRecord }>(sql, [value])).rows[0]?.record;

  return {
    getById: (id) => one('SELECT record FROM users WHERE id = $1', id),
    getByEmail: (email) => one('SELECT record FROM users WHERE lower(email) = $1', normaliseEmail(email)),
    async list() {
      const { rows } = await pool.query<{ record: UserRecord }>(
        'SELECT record FROM users ORDER BY created_at, id',
      );
      return rows.map((r) => r.record);
    },
    async create(user) {
      try {
        await pool.query('INSERT INTO users (id, email, created_at, record) VALUES ($1, $2, $3, $4)', [
          user.id,
          normaliseEmail(user.email),
          user.createdAt,
          JSON.stringify(user),
        ]);
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
        const taken = (error as { constraint?: string }).constraint === 'users_email_key';
        throw new DuplicateError(
          taken
            ? `A user with the email ${user.email} already exists.`
            : `A user with the id ${user.id} already exists.`,
        );
      }
    },
    update(id, change) {
      return inTransaction(pool, async (client) => {
        const { rows } = await client.query<{ record: UserRecord }>(
          'SELECT record FROM users WHERE id = $1 FOR UPDATE',
          [id],
        );
        const before = rows[0]?.record;
        if (!before) throw new NotFoundError(`No user with id ${id}.`);
        const next = { ...change(structuredClone(before)), id: before.id, email: before.email };
        await client.query('UPDATE users SET record = $2 WHERE id = $1', [id, JSON.stringify(next)]);
        return next;
      });
    },
    async delete(id) {
      const { rowCount } = await pool.query('DELETE FROM users WHERE id = $1', [id]);
      return (rowCount ?? 0) > 0;
    },
  };
}
