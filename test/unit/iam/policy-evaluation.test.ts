import { describe, expect, it } from 'vitest';
import { KvsError } from '../../../src/errors/codes.js';
import { evaluate } from '../../../src/iam/evaluate.js';
import { compileStatement, parsePolicyDocument } from '../../../src/iam/policy-document.js';
import { instantiateTemplate } from '../../../src/iam/templates.js';
import { compileWildcard } from '../../../src/iam/wildcard.js';

const compile = (doc: unknown) => parsePolicyDocument(doc).map(compileStatement);
const CAM1 = 'arn:aws:kinesisvideo:us-east-1:000000000000:stream/cam1/1700000000000';
const CAM2 = 'arn:aws:kinesisvideo:us-east-1:000000000000:stream/cam2/1700000000000';
const CAM10 = 'arn:aws:kinesisvideo:us-east-1:000000000000:stream/cam10/1700000000000';
const CHAN1 = 'arn:aws:kinesisvideo:us-east-1:000000000000:channel/cam1/1700000000000';

describe('wildcards', () => {
  it.each([
    ['*', 'anything', false, true],
    ['kinesisvideo:Get*', 'kinesisvideo:GetMedia', true, true],
    ['kinesisvideo:Get*', 'kinesisvideo:getmedia', true, true],
    ['kinesisvideo:Get*', 'kinesisvideo:PutMedia', true, false],
    ['kinesisvideo:Get?edia', 'kinesisvideo:GetMedia', true, true],
    ['kinesisvideo:Get?edia', 'kinesisvideo:GetMMedia', true, false],
    ['arn:aws:kinesisvideo:*:*:stream/cam1/*', CAM1, false, true],
    ['arn:aws:kinesisvideo:*:*:stream/cam1/*', CAM10, false, false],
    ['arn:aws:kinesisvideo:*:*:stream/cam1*', CAM10, false, true],
    ['arn:aws:kinesisvideo:*:*:stream/CAM1/*', CAM1, false, false],
    ['arn:aws:kinesisvideo:*:*:stream/cam.1/*', 'arn:aws:kinesisvideo:x:1:stream/camX1/1', false, false],
    ['arn:aws:kinesisvideo:*:*:stream/(a|b)/*', 'arn:aws:kinesisvideo:x:1:stream/a/1', false, false],
  ])('%s vs %s', (pattern, value, ci, expected) => {
    expect(compileWildcard(pattern, ci)(value)).toBe(expected);
  });
});

describe('evaluation', () => {
  const producerCam1 = compile(instantiateTemplate('producers', { streams: ['cam1'], channels: ['cam1'] }));

  it.each([
    ['kinesisvideo:PutMedia', [CAM1], 'allow'],
    ['kinesisvideo:DescribeStream', [CAM1], 'allow'],
    ['kinesisvideo:GetDataEndpoint', [CAM1], 'allow'],
    ['kinesisvideo:PutMedia', [CAM2], 'implicit-deny'],
    ['kinesisvideo:PutMedia', [CAM10], 'implicit-deny'],
    ['kinesisvideo:DeleteStream', [CAM1], 'implicit-deny'],
    ['kinesisvideo:GetMedia', [CAM1], 'implicit-deny'],
    ['kinesisvideo:ListStreams', ['*'], 'implicit-deny'],
    ['kinesisvideo:ConnectAsMaster', [CHAN1], 'allow'],
    ['kinesisvideo:ConnectAsViewer', [CHAN1], 'implicit-deny'],
    ['kinesisvideo:PutMedia', [CAM1, CAM2], 'implicit-deny'],
    ['kinesisvideo:PutMedia', [], 'implicit-deny'],
  ] as const)('producer of cam1: %s on %j → %s', (action, resources, decision) => {
    expect(evaluate(producerCam1, action, resources)).toBe(decision);
  });

  it('an explicit Deny wins over any Allow, in any order', () => {
    const deny = { Effect: 'Deny', Action: 'kinesisvideo:DeleteStream', Resource: '*' };
    const allow = { Effect: 'Allow', Action: 'kinesisvideo:*', Resource: '*' };
    for (const statements of [
      [deny, allow],
      [allow, deny],
    ]) {
      const s = compile({ Version: '2012-10-17', Statement: statements });
      expect(evaluate(s, 'kinesisvideo:DeleteStream', [CAM1])).toBe('explicit-deny');
      expect(evaluate(s, 'kinesisvideo:CreateStream', [CAM1])).toBe('allow');
    }
  });

  it('NotAction and NotResource grant everything but what they name', () => {
    const s = compile({ Statement: [{ Effect: 'Allow', NotAction: ['kinesisvideo:Delete*'], NotResource: 'arn:aws:kinesisvideo:*:*:stream/cam2/*' }] });
    expect(evaluate(s, 'kinesisvideo:GetMedia', [CAM1])).toBe('allow');
    expect(evaluate(s, 'kinesisvideo:DeleteStream', [CAM1])).toBe('implicit-deny');
    expect(evaluate(s, 'kinesisvideo:GetMedia', [CAM2])).toBe('implicit-deny');
  });

  it('no policies: default deny', () => {
    expect(evaluate([], 'kinesisvideo:ListStreams', ['*'])).toBe('implicit-deny');
  });

  it('templates for every stream also grant the lists, whose resource is *', () => {
    const consumers = compile(instantiateTemplate('consumers', { streams: ['*'], channels: ['*'] }));
    expect(evaluate(consumers, 'kinesisvideo:ListStreams', ['*'])).toBe('allow');
    expect(evaluate(consumers, 'kinesisvideo:GetHLSStreamingSessionURL', [CAM2])).toBe('allow');
    expect(evaluate(consumers, 'kinesisvideo:PutMedia', [CAM2])).toBe('implicit-deny');
    const capacity = compile(instantiateTemplate('capacity', { streams: ['*'], channels: [] }));
    expect(evaluate(capacity, 'openkvs:ChangeStreamCapacity', [CAM1])).toBe('allow');
    expect(evaluate(capacity, 'kinesisvideo:CreateStream', [CAM1])).toBe('implicit-deny');
    const admins = compile(instantiateTemplate('administrators', { streams: ['*'], channels: ['*'] }));
    expect(evaluate(admins, 'kinesisvideo:CreateStream', [CAM1])).toBe('allow');
    expect(evaluate(admins, 'openkvs:ChangeStreamCapacity', [CAM1])).toBe('implicit-deny');
    expect(evaluate(admins, 'openkvs:CreateAccessKey', ['*'])).toBe('implicit-deny');
    expect(evaluate(admins, 'openkvs:GetMetrics', ['*'])).toBe('allow');
    const adminsOfCam1 = compile(instantiateTemplate('administrators', { streams: ['cam1'], channels: ['cam1'] }));
    expect(evaluate(adminsOfCam1, 'openkvs:GetMetrics', ['*'])).toBe('implicit-deny');
  });
});

describe('malformed policy documents', () => {
  it.each([
    ['not JSON', '{'],
    ['an array', '[]'],
    ['no Statement', '{"Version":"2012-10-17"}'],
    ['empty Statement list', '{"Statement":[]}'],
    ['bad Effect', '{"Statement":{"Effect":"Maybe","Action":"*","Resource":"*"}}'],
    ['no Action', '{"Statement":{"Effect":"Allow","Resource":"*"}}'],
    ['Action and NotAction', '{"Statement":{"Effect":"Allow","Action":"*","NotAction":"*","Resource":"*"}}'],
    ['no Resource', '{"Statement":{"Effect":"Allow","Action":"*"}}'],
    ['a Condition (would be ignored silently otherwise)', '{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{}}}'],
    ['a Principal', '{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}}'],
    ['action without service', '{"Statement":{"Effect":"Allow","Action":"GetMedia","Resource":"*"}}'],
    ['resource not an ARN', '{"Statement":{"Effect":"Allow","Action":"*","Resource":"cam1"}}'],
    ['unknown Version', '{"Version":"2020-01-01","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}'],
    ['Action a number', '{"Statement":{"Effect":"Allow","Action":5,"Resource":"*"}}'],
    ['too long', JSON.stringify({ Statement: [{ Effect: 'Allow', Action: '*', Resource: `arn:${'x'.repeat(20_000)}` }] })],
  ])('%s → InvalidArgumentException', (_name, doc) => {
    let error: unknown;
    try {
      parsePolicyDocument(doc);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(KvsError);
    expect((error as KvsError).errorName).toBe('InvalidArgumentException');
    expect((error as KvsError).message).toMatch(/^MalformedPolicyDocument: /);
  });
});
