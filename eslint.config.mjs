import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      curly: ['error', 'all'],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // src/formats is a dependency-free library: no Node built-ins, packages or app folders; src/media types only.
    files: ['src/formats/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*', 'express', 'better-sqlite3', 'mp4box', '@*/*'], message: 'src/formats imports nothing outside src/formats.' },
            { regex: '^\\.\\./(\\.\\./)*(api|auth|conf|core|errors|ingest|retention|store|util)(/|$)', message: 'src/formats imports nothing outside src/formats.' },
            { regex: '/media/', allowTypeImports: true, message: 'src/formats may use src/media types only.' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/main.ts', 'src/cli/**'],
    rules: {
      'no-console': 'error',
    },
  },
);
