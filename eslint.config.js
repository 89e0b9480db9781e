import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.cache/', '.services/', 'bench/results/', 'test-artifacts/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // The CLI's entry is CommonJS (bin/package.json): see bin/zads.js for why.
    files: ['bin/**/*.js'],
    languageOptions: { globals: { ...globals.node }, sourceType: 'commonjs' },
  },
  {
    // The web pages' scripts run in the browser, as ES modules.
    files: ['src/api/web/static/**/*.js'],
    languageOptions: { globals: { ...globals.browser }, sourceType: 'module' },
  },
);
