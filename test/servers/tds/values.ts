// Exact conversions of decimal, temporal and uniqueidentifier values between their wire parts
// and the text SQLite stores, without going through floating point or the local time zone.

/** Days from 0001-01-01 to 1970-01-01. */
const DAYS_TO_UNIX_EPOCH = 719_162;
export const TICKS_PER_DAY = 864_000_000_000; // 100 ns units
const TICKS_PER_MINUTE = 600_000_000;

// ---------------------------------------------------------------------------------------------
// decimal / numeric
// ---------------------------------------------------------------------------------------------

/** `magnitude / 10^scale`, signed, as plain text ('-12.50'). */
export function decimalFromMagnitude(negative: boolean, magnitude: bigint, scale: number): string {
  let digits = magnitude.toString();
  if (scale > 0) {
    digits = digits.padStart(scale + 1, '0');
    digits = `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  }
  return negative && magnitude !== 0n ? `-${digits}` : digits;
}

/** The value scaled to `scale` digits after the point (rounded half away from zero). */
export function magnitudeAt(
  value: number | bigint | string,
  scale: number,
): { negative: boolean; magnitude: bigint } {
  if (typeof value === 'bigint')
    return { negative: value < 0n, magnitude: (value < 0n ? -value : value) * 10n ** BigInt(scale) };
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError(`${value} is not a decimal`);
    text =
      Number.isInteger(value) && Math.abs(value) < 2 ** 53
        ? String(value)
        : value.toFixed(Math.min(100, scale + 1));
  } else {
    text = value.trim();
  }
  const match = /^([+-]?)(\d*)(?:\.(\d*))?(?:e([+-]?\d+))?$/i.exec(text);
  if (!match || (match[2] === '' && (match[3] ?? '') === ''))
    throw new RangeError(`'${text}' is not a decimal`);
  const negative = match[1] === '-';
  let whole = match[2] ?? '';
  let fraction = match[3] ?? '';
  const exponent = Number(match[4] ?? 0);
  if (exponent > 0) {
    whole += fraction.slice(0, exponent).padEnd(exponent, '0');
    fraction = fraction.slice(exponent);
  } else if (exponent < 0) {
    fraction = whole.padStart(-exponent, '0').slice(exponent) + fraction;
    whole = whole.slice(0, exponent);
  }
  const kept = fraction.slice(0, scale).padEnd(scale, '0');
  let magnitude = BigInt(`${whole}${kept}` || '0');
  if ((fraction[scale] ?? '0') >= '5') magnitude += 1n;
  return { negative: negative && magnitude !== 0n, magnitude };
}

// ---------------------------------------------------------------------------------------------
// Calendar arithmetic (proleptic Gregorian, as datetime2 uses)
// ---------------------------------------------------------------------------------------------

function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468 + DAYS_TO_UNIX_EPOCH;
}

function civilFromDays(daysSinceYearOne: number): [number, number, number] {
  const z = daysSinceYearOne - DAYS_TO_UNIX_EPOCH + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra -
      Math.floor(dayOfEra / 1460) +
      Math.floor(dayOfEra / 36_524) -
      Math.floor(dayOfEra / 146_096)) /
      365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return [yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day];
}

export interface TemporalParts {
  /** Days since 0001-01-01. */
  readonly days: number;
  /** 100 ns units since midnight. */
  readonly ticks: number;
  /** Minutes east of UTC, when the text had an offset. */
  readonly offsetMinutes?: number;
}

/** Moves a local date and time by `minutes` (used to go between local time and UTC). */
export function ticksFromMidnight(
  days: number,
  ticks: number,
  minutes: number,
): { days: number; ticks: number } {
  const minuteOfDay = Math.floor(ticks / TICKS_PER_MINUTE) + minutes;
  const rest = ticks % TICKS_PER_MINUTE;
  const dayShift = Math.floor(minuteOfDay / 1440);
  return { days: days + dayShift, ticks: (minuteOfDay - dayShift * 1440) * TICKS_PER_MINUTE + rest };
}

const TEMPORAL =
  /^(?:(\d{4})-(\d{2})-(\d{2}))?(?:(?:[ T]|^)(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7})\d*)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;

/** Parses SQL Server's text forms (ISO 8601 too); `timeOnly` allows a missing date. */
export function parseTemporal(text: string, timeOnly = false): TemporalParts | undefined {
  const match = TEMPORAL.exec(text.trim());
  if (!match || (match[1] === undefined && !timeOnly) || (match[1] === undefined && match[4] === undefined)) {
    return undefined;
  }
  const [year, month, day] = [Number(match[1] ?? 1900), Number(match[2] ?? 1), Number(match[3] ?? 1)];
  if (month < 1 || month > 12 || day < 1 || day > 31) return undefined;
  const [hours, minutes, seconds] = [Number(match[4] ?? 0), Number(match[5] ?? 0), Number(match[6] ?? 0)];
  if (hours > 23 || minutes > 59 || seconds > 59) return undefined;
  const fraction = Number((match[7] ?? '').padEnd(7, '0'));
  const ticks = ((hours * 60 + minutes) * 60 + seconds) * 10_000_000 + fraction;
  const zone = match[8];
  let offsetMinutes: number | undefined;
  if (zone !== undefined) {
    if (zone.toUpperCase() === 'Z') offsetMinutes = 0;
    else {
      const digits = zone.replace(':', '');
      const sign = digits.startsWith('-') ? -1 : 1;
      offsetMinutes = sign * (Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5)));
    }
  }
  const days = daysFromCivil(year, month, day);
  return offsetMinutes === undefined ? { days, ticks } : { days, ticks, offsetMinutes };
}

const pad = (value: number, width: number): string => String(value).padStart(width, '0');

/** The text stored for a temporal value: date, time, datetime2/datetime, datetimeoffset. */
export function temporalText(
  kind: 'date' | 'time' | 'datetime2' | 'datetime' | 'datetimeoffset',
  parts: TemporalParts,
): string {
  const [year, month, day] = civilFromDays(parts.days);
  const date = `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}`;
  if (kind === 'date') return date;
  const seconds = Math.floor(parts.ticks / 10_000_000);
  const fraction = parts.ticks % 10_000_000;
  const clock = `${pad(Math.floor(seconds / 3600), 2)}:${pad(Math.floor(seconds / 60) % 60, 2)}:${pad(seconds % 60, 2)}`;
  const fractionText = kind === 'datetime' ? pad(Math.floor(fraction / 10_000), 3) : pad(fraction, 7);
  const time = `${clock}.${fractionText}`;
  if (kind === 'time') return time;
  if (kind !== 'datetimeoffset') return `${date} ${time}`;
  const offset = parts.offsetMinutes ?? 0;
  const sign = offset < 0 ? '-' : '+';
  const absolute = Math.abs(offset);
  return `${date} ${time} ${sign}${pad(Math.floor(absolute / 60), 2)}:${pad(absolute % 60, 2)}`;
}

// ---------------------------------------------------------------------------------------------
// uniqueidentifier: the first three groups travel little-endian
// ---------------------------------------------------------------------------------------------

function swapGroups(bytes: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(bytes.subarray(0, 4)).reverse(),
    Buffer.from(bytes.subarray(4, 6)).reverse(),
    Buffer.from(bytes.subarray(6, 8)).reverse(),
    bytes.subarray(8, 16),
  ]);
}

export function guidBytes(text: string): Buffer {
  const hex = text.replace(/[{}-]/g, '');
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new RangeError(`'${text}' is not a uniqueidentifier`);
  return swapGroups(Buffer.from(hex, 'hex'));
}

export function guidText(bytes: Buffer): string {
  const hex = swapGroups(bytes).toString('hex').toUpperCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
