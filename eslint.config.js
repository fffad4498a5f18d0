// ESLint for the page's JavaScript (browser modules), its tests and the npm scripts (Node).
// `npm run lint` runs it, and Prettier after it: ESLint finds mistakes, Prettier owns the layout.

import js from "@eslint/js";
import globals from "globals";

export default [
  { ignores: ["src/rthdr/api/static/vendor/", "node_modules/"] },
  js.configs.recommended,
  {
    files: ["src/rthdr/api/static/**/*.js"],
    languageOptions: { globals: globals.browser },
  },
  {
    files: ["tests/js/**/*.js", "scripts/**/*.js", "eslint.config.js"],
    languageOptions: { globals: globals.node },
  },
  {
    rules: {
      "no-unused-vars": ["error", { args: "after-used", ignoreRestSiblings: true }],
      eqeqeq: "error",
      "prefer-const": "error",
      "no-var": "error",
    },
  },
];
