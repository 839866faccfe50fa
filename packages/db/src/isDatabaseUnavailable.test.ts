import { describe, expect, it } from 'vitest';
import { isDatabaseUnavailable } from './isDatabaseUnavailable.ts';

/** A Prisma error as `@prisma/adapter-pg` 7 surfaces a driver error: `meta.driverAdapterError.cause` (shapes recorded from a real PostgreSQL 15). */
const prismaAdapterError = (cause: Record<string, unknown>) => ({
  name: 'PrismaClientKnownRequestError',
  code: 'P2010',
  meta: { driverAdapterError: { name: 'DriverAdapterError', cause } },
});
const postgresError = (code: string, message: string) =>
  prismaAdapterError({ originalCode: code, originalMessage: message, kind: 'postgres', code, severity: 'FATAL', message });

describe('isDatabaseUnavailable', () => {
  it.each([
    ['smart shutdown: a new session refused (57P03)', true, postgresError('57P03', 'the database system is shutting down')],
    ['a server still recovering (57P03)', true, postgresError('57P03', 'the database system is starting up')],
    ['fast shutdown: the session ended (57P01)', true, postgresError('57P01', 'terminating connection due to administrator command')],
    ['crash shutdown (57P02)', true, postgresError('57P02', 'terminating connection because of crash of another server process')],
    ['connection failure (08006)', true, postgresError('08006', 'connection failure')],
    ['unable to connect (08001)', true, postgresError('08001', 'could not connect')],
    ['too many connections, mapped by the adapter', true, prismaAdapterError({ originalCode: '53300', kind: 'TooManyConnections' })],
    ['too many connections, passed through', true, postgresError('53300', 'sorry, too many clients already')],
    ['server unreachable, mapped by the adapter', true, prismaAdapterError({ kind: 'DatabaseNotReachable', host: '127.0.0.1', port: 1 })],
    ['Prisma P1001', true, { code: 'P1001' }],
    ['Prisma pool timeout P2024', true, { code: 'P2024' }],
    ['a bare pg error 57P03', true, { code: '57P03', severity: 'FATAL' }],
    ['a bare socket error', true, Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })],
    ['a bare unknown host (the adapter maps it to DatabaseNotReachable)', true, Object.assign(new Error('getaddrinfo ENOTFOUND db'), { code: 'ENOTFOUND' })],
    ['a bare missing database 3D000 (the adapter maps it to DatabaseDoesNotExist)', true, { code: '3D000', severity: 'FATAL' }],
    ['a DriverAdapterError thrown as the cause of another error', true, { message: 'wrapped', cause: { name: 'DriverAdapterError', cause: { kind: 'postgres', originalCode: '57P01' } } }],
    ['pg: a connection that died under a query', true, new Error('Connection terminated unexpectedly')],
    ['pg-pool: no connection within the connect timeout', true, new Error('timeout exceeded when trying to connect')],
    ['pg-pool: a connect that timed out, with its cause', true, new Error('Connection terminated due to connection timeout', { cause: new Error('Connection terminated unexpectedly') })],
    ['pg: a client already broken by a connection error', true, new Error('Client has encountered a connection error and is not queryable')],
    ['a message that only starts like pg\'s', false, new Error('Connection terminated by the user on purpose')],
    ['a unique violation (23505)', false, postgresError('23505', 'duplicate key value violates unique constraint')],
    ['a syntax error (42601)', false, postgresError('42601', 'syntax error')],
    ['a statement timeout (57014) is not the server going away', false, postgresError('57014', 'canceling statement due to statement timeout')],
    ['an unsupported column type', false, prismaAdapterError({ kind: 'UnsupportedNativeDataType', type: 'void' })],
    ['Prisma P2002', false, { code: 'P2002' }],
    ['a plain error', false, new Error('boom')],
    ['a string', false, '57P03'],
    ['null', false, null],
  ])('%s → unavailable: %s', (_name: string, expected: boolean, error: unknown) => {
    expect(isDatabaseUnavailable(error)).toBe(expected);
  });

  it('stops following a cause chain that loops', () => {
    const looped: { cause?: unknown } = {};
    looped.cause = looped;
    expect(isDatabaseUnavailable(looped)).toBe(false);
  });
});
