// Number formatting shared by the console's views.

/** Bytes in binary units, one decimal: 512 B, 1.5 KiB, 3.0 MiB. */
export function formatBytes(n) {
  if (n < 1024) {
    return `${Math.round(n)} B`;
  }
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}
