// A small rule set the whole tree passes: typescript-eslint's recommended rules (no type-aware
// rules, so a lint run stays a few seconds on two cores) plus a handful that catch real mistakes.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'public/', 'data/', 'coverage/', '.ci/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      'no-console': ['error', { allow: ['warn', 'error'] }],
      eqeqeq: ['error', 'smart'],
      'no-var': 'error',
      'prefer-const': 'error',
    },
  },
  {
    // Benchmarks, command-line tools and browser scripts print to the console on purpose.
    files: ['bench/**', 'server/embedded-mongo/cli.ts', 'client/**', 'tests/**'],
    rules: { 'no-console': 'off' },
  },
);
