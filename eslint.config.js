// Lint rules that hold the architecture of ../DESIGN.md: the lower layers never import controllers,
// and only src/azure may import the Azure SDKs.
import tseslint from "typescript-eslint";

const noControllers = {
  patterns: [{ group: ["**/controllers/**", "../controllers/*"], message: "runtime/kube/azure/conditions/crds must not import controllers (one-way layering)" }],
};
const noAzure = {
  patterns: [{ group: ["@azure/*"], message: "only src/azure may import the Azure SDKs" }],
};

export default tseslint.config(
  { ignores: ["node_modules/", "dist/", ".dist-new-*/", ".dist-old/", ".tools/", ".demo/", "deploy/", "coverage/"] },
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrorsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
    },
  },
  {
    files: ["src/runtime/**/*.ts", "src/kube/**/*.ts", "src/conditions/**/*.ts", "src/crds/**/*.ts"],
    rules: { "no-restricted-imports": ["error", { patterns: [...noControllers.patterns, ...noAzure.patterns] }] },
  },
  {
    // The generator renders the chart's RBAC from the rules controllers declare.
    files: ["src/crds/generate.ts"],
    rules: { "no-restricted-imports": ["error", { patterns: noAzure.patterns }] },
  },
  {
    files: ["src/azure/**/*.ts"],
    rules: { "no-restricted-imports": ["error", noControllers] },
  },
  {
    files: ["src/controllers/**/*.ts", "src/main.ts", "src/config.ts"],
    rules: { "no-restricted-imports": ["error", noAzure] },
  },
);
