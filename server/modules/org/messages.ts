export const orgMessages = {
  'org.units': { id: 'Unit Kerja', en: 'Units' },
  'org.positions': { id: 'Jabatan', en: 'Positions' },
  'org.users': { id: 'Pengguna', en: 'Users' },
  'org.delegations': { id: 'Pelimpahan (Plh./Plt./a.n./u.b.)', en: 'Delegations (Plh./Plt./a.n./u.b.)' },
} satisfies Record<string, { id: string; en: string }>;
