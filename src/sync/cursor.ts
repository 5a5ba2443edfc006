/** Magento's `updated_at` ("YYYY-MM-DD HH:MM:SS", UTC) moved back by some seconds: the overlap. */
export function minusSeconds(magentoDate: string, seconds: number): string {
  const ms = Date.parse(`${magentoDate.replace(' ', 'T')}Z`);
  if (Number.isNaN(ms)) throw new Error(`Not a Magento date: ${magentoDate}`);
  return new Date(ms - seconds * 1000).toISOString().slice(0, 19).replace('T', ' ');
}
