// catalog-sync's webhook forwarder (Medusa has no webhooks): a product event becomes one signed POST to the
// catalog-sync receiver. Signed per Standard Webhooks (standardwebhooks.com), the scheme catalog-sync's
// signatures.py verifies: headers webhook-id, webhook-timestamp (unix seconds) and webhook-signature
// `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, keyed by the base64-decoded `whsec_` secret.
import { createHmac, randomUUID } from "crypto"

export type ForwarderConfig = {
  url: string
  key: Buffer // the secret after `whsec_`, base64-decoded
  maxAttempts: number
  backoffMs: number // before attempt n+1: backoffMs * 2^(n-1)
  timeoutMs: number // per attempt
}

export type ProductEventBody = {
  type: "product.created" | "product.updated" | "product.deleted"
  timestamp: string
  data: { id: string; external_id: string | null; updated_at: string | null }
}

export type Logger = { warn(message: string): void; info(message: string): void }

const ATTEMPTS = 5
const BACKOFF_MS = 1000
const TIMEOUT_MS = 10000

/** The forwarder's settings from the environment; null (forward nothing) without CATALOG_SYNC_WEBHOOK_URL. */
export function forwarderConfig(env: NodeJS.ProcessEnv): ForwarderConfig | null {
  const url = env.CATALOG_SYNC_WEBHOOK_URL?.trim()
  if (!url) {
    return null
  }
  const parsed = new URL(url) // throws on a malformed URL: a misconfiguration, said at the first event
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    throw new Error(`CATALOG_SYNC_WEBHOOK_URL must be http(s), got ${parsed.protocol}`)
  }
  const secret = env.CATALOG_SYNC_WEBHOOK_SECRET?.trim() ?? ""
  if (!secret.startsWith("whsec_")) {
    throw new Error("CATALOG_SYNC_WEBHOOK_SECRET must be a whsec_ secret (Standard Webhooks)")
  }
  const key = Buffer.from(secret.slice("whsec_".length), "base64")
  if (!key.length) {
    throw new Error("CATALOG_SYNC_WEBHOOK_SECRET has no key after whsec_")
  }
  return {
    url,
    key,
    maxAttempts: bounded(env.CATALOG_SYNC_WEBHOOK_MAX_ATTEMPTS, ATTEMPTS, 1, 10),
    backoffMs: bounded(env.CATALOG_SYNC_WEBHOOK_BACKOFF_MS, BACKOFF_MS, 0, 60000),
    timeoutMs: TIMEOUT_MS,
  }
}

function bounded(raw: string | undefined, fallback: number, min: number, max: number): number {
  const value = raw === undefined ? NaN : Number(raw)
  return Number.isFinite(value) ? Math.min(max, Math.max(min, Math.floor(value))) : fallback
}

export function sign(key: Buffer, id: string, timestamp: number, body: string): string {
  const mac = createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest("base64")
  return `v1,${mac}`
}

/**
 * POST `body` until a 2xx answers or `maxAttempts` are spent, waiting `backoffMs * 2^(n-1)` between
 * attempts. The webhook-id stays the same across attempts (the receiver's dedup key); each attempt is signed
 * with a fresh timestamp. Resolves true once delivered; never rejects.
 */
export async function deliver(config: ForwarderConfig, body: ProductEventBody, logger: Logger): Promise<boolean> {
  const id = `msg_${randomUUID().replace(/-/g, "")}`
  const raw = JSON.stringify(body)
  for (let attempt = 1; attempt <= config.maxAttempts; attempt++) {
    const timestamp = Math.floor(Date.now() / 1000)
    let outcome: string
    try {
      const resp = await fetch(config.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": "catalog-sync-medusa-forwarder/1",
          "webhook-id": id,
          "webhook-timestamp": String(timestamp),
          "webhook-signature": sign(config.key, id, timestamp, raw),
        },
        body: raw,
        signal: AbortSignal.timeout(config.timeoutMs),
      })
      await resp.arrayBuffer().catch(() => undefined) // drain, so the connection is reused
      if (resp.ok) {
        return true
      }
      outcome = `HTTP ${resp.status}`
    } catch (error) {
      outcome = error instanceof Error ? error.name : "error"
    }
    if (attempt < config.maxAttempts) {
      await new Promise((resolve) => setTimeout(resolve, config.backoffMs * 2 ** (attempt - 1)))
    } else {
      logger.warn(`catalog-sync: ${body.type} ${body.data.id} (${id}) not delivered after ${attempt} attempts: ${outcome}`)
    }
  }
  return false
}
