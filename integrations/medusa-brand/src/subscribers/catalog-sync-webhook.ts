// Forwards product changes to catalog-sync (lib/catalog-sync-webhook.ts says how they are signed and retried).
// product.created|updated|deleted are forwarded as they are. A variant change (its price, SKU, options) emits
// only product-variant.* in Medusa 2.x and leaves the product's updated_at as it was, so it is forwarded as
// product.updated of its product: catalog-sync reads the product again either way.
// Configured by CATALOG_SYNC_WEBHOOK_URL (no URL: nothing is sent) and CATALOG_SYNC_WEBHOOK_SECRET.
// The delivery runs after this handler returns: a slow or failing receiver never holds Medusa up.
import type { SubscriberArgs, SubscriberConfig } from "@medusajs/framework"
import { ContainerRegistrationKeys } from "@medusajs/framework/utils"
import { deliver, forwarderConfig, Logger, ProductEventBody } from "../lib/catalog-sync-webhook"

type Product = { id: string; external_id?: string | null; updated_at?: string | Date | null }

export default async function catalogSyncWebhook({ event, container }: SubscriberArgs<{ id: string }>) {
  const logger = container.resolve(ContainerRegistrationKeys.LOGGER) as Logger
  let config
  try {
    config = forwarderConfig(process.env)
  } catch (error) {
    logger.warn(`catalog-sync: forwarder misconfigured: ${(error as Error).message}`)
    return
  }
  const id = event.data?.id
  if (!config || typeof id !== "string") {
    return
  }
  const query = container.resolve(ContainerRegistrationKeys.QUERY)
  let productId = id
  if (event.name.startsWith("product-variant.")) {
    const { data } = await query.graph({
      entity: "product_variant",
      fields: ["id", "product_id"],
      filters: { id },
      withDeleted: true,
    })
    productId = (data[0] as { product_id?: string } | undefined)?.product_id ?? ""
    if (!productId) {
      return
    }
  }
  const { data } = await query.graph({
    entity: "product",
    fields: ["id", "external_id", "updated_at"],
    filters: { id: productId },
    withDeleted: true,
  })
  const product = data[0] as Product | undefined
  const type: ProductEventBody["type"] =
    event.name === "product.created" || event.name === "product.deleted" ? event.name : "product.updated"
  const body: ProductEventBody = {
    type,
    timestamp: new Date().toISOString(),
    data: {
      id: productId,
      external_id: product?.external_id ?? null,
      updated_at: type === "product.deleted" || !product?.updated_at ? null : new Date(product.updated_at).toISOString(),
    },
  }
  void deliver(config, body, logger) // not awaited: see the header
}

export const config: SubscriberConfig = {
  event: [
    "product.created",
    "product.updated",
    "product.deleted",
    "product-variant.created",
    "product-variant.updated",
    "product-variant.deleted",
  ],
  context: { subscriberId: "catalog-sync-webhook" },
}
