import { isInfraError } from '../../ports/errors.ts';
import type { SqlOperation } from '../../ports/sql-database.ts';
import {
  checkValue,
  isSqlStatement,
  renderSql,
  type RenderedSql,
  type SqlDialect,
  type SqlInput,
} from '../../ports/sql.ts';
import type { Guard } from '../guard/guard.ts';

/**
 * A statement rendered for the dialect with its parameters checked, before any I/O. The checks
 * of src/ports/sql.ts know no component: their validation errors get this port's id and operation.
 */
export function renderStatement(
  guard: Guard<SqlOperation>,
  dialect: SqlDialect,
  operation: SqlOperation,
  statement: SqlInput,
): RenderedSql {
  try {
    if (isSqlStatement(statement)) return renderSql(statement, dialect);
    const text: unknown = (statement as { text?: unknown } | null)?.text;
    const values: unknown = statement?.values ?? [];
    if (typeof text !== 'string' || text.trim() === '' || !Array.isArray(values)) {
      throw guard.invalid(
        operation,
        'statement',
        'expected sql`…`, or { text, values } with the text non-empty and values an array',
      );
    }
    return { text, values: values.map((value, index) => checkValue(value, index + 1)) };
  } catch (error) {
    if (isInfraError(error) && error.reason === 'validation' && error.operation === undefined)
      throw guard.invalid(operation, 'statement', error.message, { cause: error });
    throw error;
  }
}
