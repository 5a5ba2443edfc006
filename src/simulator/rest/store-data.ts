/** `GET /V1/store/storeConfigs`: one default store view, URLs derived from the store base URL. */
export function storeConfigs(baseUrl: string) {
  return [
    {
      id: 1,
      code: 'default',
      website_id: 1,
      locale: 'en_US',
      base_currency_code: 'USD',
      default_display_currency_code: 'USD',
      timezone: 'America/Chicago',
      weight_unit: 'lbs',
      base_url: baseUrl,
      base_link_url: baseUrl,
      base_static_url: `${baseUrl}static/version1/`,
      base_media_url: `${baseUrl}media/`,
      secure_base_url: baseUrl,
      secure_base_link_url: baseUrl,
      secure_base_static_url: `${baseUrl}static/version1/`,
      secure_base_media_url: `${baseUrl}media/`,
    },
  ];
}

/** `GET /V1/store/websites`: the admin website and the main website, as a fresh install has. */
export function websites() {
  return [
    { id: 0, code: 'admin', name: 'Admin', default_group_id: 0 },
    { id: 1, code: 'base', name: 'Main Website', default_group_id: 1 },
  ];
}
