import express from 'express';
import { describe, expect, it } from 'vitest';
import { trustProxySetting } from '../server/app.js';
import { ConfigError, loadConfig } from '../server/config.js';

describe('configuration from the environment', () => {
  it('starts on the embedded store with the demo conference by default', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 3000, mongodbUri: undefined, seedDemo: true, isProduction: false });
  });

  it('names every bad variable in one message', () => {
    try {
      loadConfig({ PORT: 'eighty', MONGODB_URI: 'postgres://x', NODE_ENV: 'production' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems.join('\n')).toMatch(/PORT[\s\S]*MONGODB_URI/);
    }
  });

  it('refuses production without a session secret, and never seeds demo data there', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/SESSION_SECRET/);
    const config = loadConfig({ NODE_ENV: 'production', SESSION_SECRET: 'x'.repeat(40), MONGODB_URI: 'mongodb://db.example:27017/bridgepoint' });
    expect(config.seedDemo).toBe(false);
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ MONGODB_URI: '', PORT: '' }).mongodbUri).toBeUndefined();
  });

  it('reads the mail server for invitations and refuses one that is not smtp:// or comes without a sender', () => {
    expect(loadConfig({ SMTP_URL: 'smtps://hoi-nghi:mat-khau@mail.example.vn:465', MAIL_FROM: 'hoi-nghi@example.vn' })).toMatchObject({ smtpUrl: 'smtps://hoi-nghi:mat-khau@mail.example.vn:465', mailFrom: 'hoi-nghi@example.vn' });
    expect(() => loadConfig({ SMTP_URL: 'http://mail.example.vn', MAIL_FROM: 'a@example.vn' })).toThrow(/SMTP_URL/);
    expect(() => loadConfig({ SMTP_URL: 'smtp://mail.example.vn' })).toThrow(/MAIL_FROM/);
    // Calendar files still need an ORGANIZER address without e-mail.
    expect(loadConfig({ PUBLIC_URL: 'https://hoinghi.example.vn' }).mailFrom).toBe('no-reply@hoinghi.example.vn');
  });

  it('checks TRUST_PROXY and the embedded store variables at start, naming them, instead of failing later without a name', () => {
    for (const value of ['1', 'true', 'false', 'loopback', 'loopback, 10.0.0.0/8', '::1', 'fd00::/8', '10.0.0.0/255.0.0.0', '192.168.1.10']) {
      const { trustProxy } = loadConfig({ TRUST_PROXY: value });
      // Express itself accepts what was let through (it throws on an address it cannot read).
      expect(() => express().set('trust proxy', trustProxySetting(trustProxy!)), value).not.toThrow();
    }
    // Spaces around the value (an env file, a YAML block) are not part of it: '1 ' is one proxy,
    // not the address 0.0.0.1 that Express reads in it.
    for (const value of ['1 ', ' 2', ' true ', 'loopback, 10.0.0.0/8 ']) expect(loadConfig({ TRUST_PROXY: value }).trustProxy, value).toBe(value.trim());
    // A netmask Express cannot turn into a prefix stopped the start in proxy-addr, without the variable's name.
    for (const value of ['banana', '10.0.0.0/33', '1.2.3', 'loopback/8', '10.0.0.0/8/1', '10.0.0.0/255.0.255.0', '10.0.0.0/0.0.0.255']) {
      expect(() => loadConfig({ TRUST_PROXY: value }), value).toThrow(/TRUST_PROXY: must be true, false, a number of proxies/);
    }
    expect(() => loadConfig({ EMBEDDED_MONGO_FSYNC: 'always', EMBEDDED_MONGO_MEMORY_MB: '512' })).not.toThrow();
    expect(() => loadConfig({ EMBEDDED_MONGO_FSYNC: '100' })).not.toThrow();
    expect(() => loadConfig({ EMBEDDED_MONGO_FSYNC: '1000' })).toThrow(/EMBEDDED_MONGO_FSYNC: must be "always", "off" or a number of milliseconds from 1 to 500/);
    expect(() => loadConfig({ EMBEDDED_MONGO_MEMORY_MB: 'abc' })).toThrow(/EMBEDDED_MONGO_MEMORY_MB: must be a positive number of MiB/);
    expect(() => loadConfig({ EMBEDDED_MONGO_MEMORY_MB: '0' })).toThrow(/EMBEDDED_MONGO_MEMORY_MB: must be a positive number of MiB/);
  });
});
