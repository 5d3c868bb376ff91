import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { destinationOf, imageGenerationOf } from '../../../src/consumers/image-generation.js';

const BASE = {
  Status: 'ENABLED',
  ImageSelectorType: 'PRODUCER_TIMESTAMP',
  DestinationConfig: { Uri: 's3://bucket/prefix', DestinationRegion: 'us-east-1' },
  SamplingInterval: 1000,
  Format: 'JPEG',
};

describe('imageGenerationOf', () => {
  it('reads a full configuration', () => {
    expect(
      imageGenerationOf({ ...BASE, ImageSelectorType: 'SERVER_TIMESTAMP', Format: 'PNG', FormatConfig: { JPEGQuality: '55' }, WidthPixels: 640, HeightPixels: 480 }),
    ).toEqual({ status: 'ENABLED', selector: 'SERVER_TIMESTAMP', uri: 's3://bucket/prefix', intervalMs: 1000, format: 'PNG', quality: 55, width: 640, height: 480 });
  });

  it('defaults: JPEGQuality 80, no size, PRODUCER_TIMESTAMP, JPEG', () => {
    const g = imageGenerationOf({ Status: 'ENABLED', DestinationConfig: { Uri: 'file://./frames' }, SamplingInterval: 200 });
    expect(g).toEqual({ status: 'ENABLED', selector: 'PRODUCER_TIMESTAMP', uri: 'file://./frames', intervalMs: 200, format: 'JPEG', quality: 80 });
    expect(g).not.toHaveProperty('width');
    expect(g).not.toHaveProperty('height');
  });

  it.each([
    ['FormatConfig without JPEGQuality', { FormatConfig: {} }, 80],
    ['JPEGQuality "1"', { FormatConfig: { JPEGQuality: '1' } }, 1],
    ['JPEGQuality "100"', { FormatConfig: { JPEGQuality: '100' } }, 100],
  ])('quality: %s → %i', (_name, over, quality) => {
    expect(imageGenerationOf({ ...BASE, ...over })?.quality).toBe(quality);
  });

  it.each([
    ['ENABLED', 'ENABLED'],
    ['DISABLED', 'DISABLED'],
    [undefined, 'DISABLED'],
    ['enabled', 'DISABLED'],
  ])('Status %s → %s', (Status, status) => {
    expect(imageGenerationOf({ ...BASE, Status })?.status).toBe(status);
  });

  it.each([
    ['SERVER_TIMESTAMP', 'SERVER_TIMESTAMP'],
    ['PRODUCER_TIMESTAMP', 'PRODUCER_TIMESTAMP'],
    [undefined, 'PRODUCER_TIMESTAMP'],
    ['something else', 'PRODUCER_TIMESTAMP'],
  ])('ImageSelectorType %s → %s', (ImageSelectorType, selector) => {
    expect(imageGenerationOf({ ...BASE, ImageSelectorType })?.selector).toBe(selector);
  });

  it.each([
    ['null', null],
    ['a string', 'ENABLED'],
    ['no DestinationConfig', { ...BASE, DestinationConfig: undefined }],
    ['a Uri that is not a string', { ...BASE, DestinationConfig: { Uri: 5 } }],
    ['no SamplingInterval', { ...BASE, SamplingInterval: undefined }],
    ['a SamplingInterval as a string', { ...BASE, SamplingInterval: '1000' }],
  ])('%s → null', (_name, stored) => {
    expect(imageGenerationOf(stored)).toBeNull();
  });
});

describe('destinationOf', () => {
  const cwd = '/srv/openkvs';

  it.each([
    ['s3://bucket/prefix', { kind: 's3', bucket: 'bucket', prefix: 'prefix' }],
    ['s3://bucket/deep/prefix/', { kind: 's3', bucket: 'bucket', prefix: 'deep/prefix/' }],
    ['s3://bucket', { kind: 's3', bucket: 'bucket', prefix: '' }],
    ['s3://bucket/', { kind: 's3', bucket: 'bucket', prefix: '' }],
    ['S3://Bucket/p', { kind: 's3', bucket: 'Bucket', prefix: 'p' }],
    ['http://127.0.0.1:9000/frames', { kind: 'http', uri: 'http://127.0.0.1:9000/frames' }],
    ['https://example.com/in?key=1', { kind: 'http', uri: 'https://example.com/in?key=1' }],
    ['HTTPS://EXAMPLE.COM/x', { kind: 'http', uri: 'HTTPS://EXAMPLE.COM/x' }],
    ['file://localhost/abs/dir', { kind: 'file', dir: '/abs/dir' }],
    ['file://localhost/var/lib/openkvs/frames/', { kind: 'file', dir: '/var/lib/openkvs/frames/' }],
  ])('%s', (uri, expected) => {
    expect(destinationOf(uri, cwd)).toEqual(expected);
  });

  it.each([
    ['file://./frames', join(cwd, 'frames')],
    ['file://./a/b', join(cwd, 'a/b')],
    ['file://./', cwd],
  ])('%s is relative to the working directory', (uri, dir) => {
    const d = destinationOf(uri, cwd);
    expect(d?.kind).toBe('file');
    expect(d?.kind === 'file' ? resolve(d.dir) : null).toBe(dir);
  });

  it.each([
    'ftp://host/dir',
    'kinesis://stream',
    'file://otherhost/dir',
    'file://frames',
    'not a uri',
    '',
    'http://',
    '/abs/dir',
    'file://../up',
    'file://./../up',
    'file://localhost/var/frames/../../etc',
    'file://localhost/var/fr\u0000ames',
    'file://localhost/var\\..\\etc',
    's3://bucket/../other-bucket/x',
    's3://../other-bucket',
  ])('%j → null (a scheme or form openkvs cannot deliver to, or a path that is not plain)', (uri) => {
    expect(destinationOf(uri, cwd)).toBeNull();
  });
});
