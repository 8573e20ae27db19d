// Product create/update hooks: `additional_data.brand_id` links the product to that brand (replacing the
// brand it had); `null` removes its brand; absent leaves the link as it is. An unknown brand id fails the
// request (and the workflow rolls the product change back).
import {
  createProductsWorkflow,
  updateProductsWorkflow,
} from "@medusajs/medusa/core-flows"
import { StepResponse } from "@medusajs/framework/workflows-sdk"
import { ContainerRegistrationKeys, Modules } from "@medusajs/framework/utils"
import { LinkDefinition, MedusaContainer } from "@medusajs/framework/types"
import { BRAND_MODULE } from "../../modules/brand"
import BrandModuleService from "../../modules/brand/service"

type Changes = { dismissed: LinkDefinition[]; created: LinkDefinition[] }

const productBrand = (productId: string, brandId: string): LinkDefinition => ({
  [Modules.PRODUCT]: { product_id: productId },
  [BRAND_MODULE]: { brand_id: brandId },
})

async function relink(
  productIds: string[],
  additional: Record<string, unknown> | undefined,
  container: MedusaContainer
): Promise<Changes> {
  const none: Changes = { dismissed: [], created: [] }
  if (!additional || !("brand_id" in additional) || !productIds.length) {
    return none
  }
  const brandId = additional.brand_id as string | null
  if (brandId) {
    const brands: BrandModuleService = container.resolve(BRAND_MODULE)
    await brands.retrieveBrand(brandId) // throws not_found for an unknown brand
  }
  const query = container.resolve(ContainerRegistrationKeys.QUERY)
  const { data: products } = await query.graph({
    entity: "product",
    fields: ["id", "brand.id"],
    filters: { id: productIds },
  })
  const current = new Map<string, string | undefined>(
    products.map((p: { id: string; brand?: { id: string } | null }) => [p.id, p.brand?.id])
  )
  const dismissed = productIds
    .filter((id) => current.get(id) && current.get(id) !== brandId)
    .map((id) => productBrand(id, current.get(id) as string))
  const created = brandId
    ? productIds.filter((id) => current.get(id) !== brandId).map((id) => productBrand(id, brandId))
    : []
  const link = container.resolve(ContainerRegistrationKeys.LINK)
  if (dismissed.length) {
    await link.dismiss(dismissed)
  }
  if (created.length) {
    await link.create(created)
  }
  return { dismissed, created }
}

async function undo(changes: Changes | undefined, container: MedusaContainer): Promise<void> {
  if (!changes) {
    return
  }
  const link = container.resolve(ContainerRegistrationKeys.LINK)
  if (changes.created.length) {
    await link.dismiss(changes.created)
  }
  if (changes.dismissed.length) {
    await link.create(changes.dismissed)
  }
}

createProductsWorkflow.hooks.productsCreated(
  async ({ products, additional_data }, { container }) => {
    const changes = await relink(products.map((p) => p.id), additional_data, container)
    return new StepResponse(changes, changes)
  },
  async (changes, { container }) => undo(changes, container)
)

updateProductsWorkflow.hooks.productsUpdated(
  async ({ products, additional_data }, { container }) => {
    const changes = await relink(products.map((p) => p.id), additional_data, container)
    return new StepResponse(changes, changes)
  },
  async (changes, { container }) => undo(changes, container)
)
