// The contract tests' Medusa: PostgreSQL only (no Redis: Medusa's in-memory event bus, cache, locking and
// workflow engine), no admin UI, and the Brand Module from integrations/medusa-brand (copied into ./src).
import { defineConfig, loadEnv } from "@medusajs/framework/utils"

loadEnv(process.env.NODE_ENV || "development", process.cwd())

const local = "http://127.0.0.1"

module.exports = defineConfig({
  projectConfig: {
    databaseUrl: process.env.DATABASE_URL,
    databaseDriverOptions: { connection: { ssl: false } },
    http: {
      storeCors: local,
      adminCors: local,
      authCors: local,
      jwtSecret: process.env.JWT_SECRET || "catalog-sync-contract-jwt",
      cookieSecret: process.env.COOKIE_SECRET || "catalog-sync-contract-cookie",
    },
  },
  admin: { disable: true },
  modules: [{ resolve: "./src/modules/brand" }],
})
