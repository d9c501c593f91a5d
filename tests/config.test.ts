import { describe, expect, it } from 'vitest';
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
});
