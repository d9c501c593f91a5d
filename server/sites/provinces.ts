// Province list for the one-click "add the province's districts": plain data, one entry per
// province. To add a province, append an entry (district-level units with their full names).
// Administrative units as of 2021 (the seed conference); Vietnam's 2025 reform merged provinces
// and removed the district level, so add a dated entry rather than editing this one.

export interface ProvinceDistrict {
  /** GSO administrative code of the district-level unit. */
  code: string;
  /** Full Vietnamese name, used as the site name: "Thành phố Cao Lãnh", "Huyện Tân Hồng". */
  name: string;
  /** Where the bridge point usually is: the district People's Committee office. */
  address: string;
}

export interface Province {
  /** GSO province code. */
  code: string;
  name: string;
  /** The main site created when the meeting has none (the provincial People's Committee office). */
  mainSite: { name: string; address: string };
  districts: ProvinceDistrict[];
}

const dongThapDistricts: Array<[code: string, name: string]> = [
  ['866', 'Thành phố Cao Lãnh'],
  ['867', 'Thành phố Sa Đéc'],
  ['868', 'Thành phố Hồng Ngự'],
  ['869', 'Huyện Tân Hồng'],
  ['870', 'Huyện Hồng Ngự'],
  ['871', 'Huyện Tam Nông'],
  ['872', 'Huyện Thanh Bình'],
  ['873', 'Huyện Tháp Mười'],
  ['874', 'Huyện Cao Lãnh'],
  ['875', 'Huyện Lấp Vò'],
  ['876', 'Huyện Lai Vung'],
  ['877', 'Huyện Châu Thành'],
];

export const provinces: Province[] = [
  {
    code: '87',
    name: 'Đồng Tháp',
    mainSite: { name: 'Văn phòng UBND Tỉnh', address: 'Văn phòng Ủy ban nhân dân tỉnh Đồng Tháp, Thành phố Cao Lãnh, tỉnh Đồng Tháp' },
    districts: dongThapDistricts.map(([code, name]) => ({ code, name, address: `Ủy ban nhân dân ${lowerFirst(name)}, tỉnh Đồng Tháp` })),
  },
];

function lowerFirst(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

export function findProvince(code: string): Province | undefined {
  return provinces.find((province) => province.code === code);
}
