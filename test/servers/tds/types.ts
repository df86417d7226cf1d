// SQL Server data types: how they are named in T-SQL and declared in SQLite (for the right
// storage affinity); test/servers/tds/wire.ts puts them on the wire.
//
// Storage in SQLite: integers as INTEGER (bigint exact), bit as 0/1, decimal as exact TEXT,
// strings as TEXT, varbinary as BLOB, temporal values as SQL Server's own text forms
// ('2024-05-01 12:00:00.1234567', datetimeoffset with ' +02:00'), uniqueidentifier as upper-case text.

export type SqlType =
  | {
      readonly name:
        | 'tinyint'
        | 'smallint'
        | 'int'
        | 'bigint'
        | 'bit'
        | 'float'
        | 'real'
        | 'date'
        | 'datetime'
        | 'uniqueidentifier';
    }
  | { readonly name: 'decimal' | 'numeric'; readonly precision: number; readonly scale: number }
  | { readonly name: 'nvarchar' | 'varchar' | 'varbinary'; readonly length: number | 'max' }
  | { readonly name: 'datetime2' | 'datetimeoffset' | 'time'; readonly scale: number };

/** A value as node:sqlite stores and returns it. */
export type StoredValue = null | number | bigint | string | Uint8Array;

/** `int`, `DECIMAL(18, 2)`, `nvarchar(max)`, and the SQLite spellings sqliteType() produces. */
export function parseSqlType(text: string): SqlType | undefined {
  const match = /^\s*([a-z_][a-z0-9_ ]*?)\s*(?:\(\s*(-?\d+|max)\s*(?:,\s*(\d+)\s*)?\))?\s*$/i.exec(text);
  if (!match) return undefined;
  const name = (match[1] ?? '').toLowerCase().replace(/\s+/g, ' ');
  const first = match[2]?.toLowerCase();
  const size = first === undefined ? undefined : first === 'max' || first === '-1' ? 'max' : Number(first);
  const second = match[3] === undefined ? undefined : Number(match[3]);
  const scaleOf = (fallback: number): number => (typeof size === 'number' ? size : fallback);
  switch (name) {
    case 'int':
    case 'integer':
      return { name: 'int' };
    case 'tinyint':
    case 'smallint':
    case 'bigint':
    case 'bit':
    case 'real':
    case 'date':
    case 'uniqueidentifier':
      return { name };
    case 'float':
      return typeof size === 'number' && size <= 24 ? { name: 'real' } : { name: 'float' };
    case 'datetime':
    case 'smalldatetime':
      return { name: 'datetime' };
    case 'decimal':
    case 'dec':
    case 'decimaltext':
    case 'numeric':
    case 'numerictext':
      return {
        name: name.startsWith('num') ? 'numeric' : 'decimal',
        precision: typeof size === 'number' ? Math.min(38, Math.max(1, size)) : 18,
        scale: second ?? 0,
      };
    case 'nvarchar':
    case 'nchar':
    case 'varchar':
    case 'char':
    case 'varbinary':
    case 'binary':
      return {
        name:
          name === 'nchar'
            ? 'nvarchar'
            : name === 'char'
              ? 'varchar'
              : name === 'binary'
                ? 'varbinary'
                : name,
        length: size ?? 1,
      };
    case 'sysname':
      return { name: 'nvarchar', length: 128 };
    case 'ntext':
      return { name: 'nvarchar', length: 'max' };
    case 'text':
      return { name: 'varchar', length: 'max' };
    case 'datetime2':
    case 'datetimeoffset':
    case 'time':
      return { name, scale: Math.min(7, scaleOf(7)) };
    default:
      return undefined;
  }
}

/** The column type to declare in SQLite: parseSqlType() reads it back, its affinity stores exactly. */
export function sqliteType(type: SqlType): string {
  switch (type.name) {
    case 'decimal':
    case 'numeric':
      // TEXT affinity, so exact values are never turned into floating point by SQLite.
      return `${type.name.toUpperCase()}TEXT(${type.precision},${type.scale})`;
    case 'nvarchar':
    case 'varchar':
    case 'varbinary':
      return `${type.name.toUpperCase()}(${type.length === 'max' ? -1 : type.length})`;
    case 'datetime2':
    case 'datetimeoffset':
    case 'time':
      return `${type.name.toUpperCase()}(${type.scale})`;
    default:
      return type.name.toUpperCase();
  }
}

/** As SQL Server writes it in messages: `decimal(18,2)`, `nvarchar(max)`. */
export function formatSqlType(type: SqlType): string {
  switch (type.name) {
    case 'decimal':
    case 'numeric':
      return `${type.name}(${type.precision},${type.scale})`;
    case 'nvarchar':
    case 'varchar':
    case 'varbinary':
      return `${type.name}(${type.length})`;
    case 'datetime2':
    case 'datetimeoffset':
    case 'time':
      return `${type.name}(${type.scale})`;
    default:
      return type.name;
  }
}
