import { MedusaRequest, MedusaResponse } from "@medusajs/framework/http"
import { ContainerRegistrationKeys } from "@medusajs/framework/utils"
import { createBrandWorkflow } from "../../../workflows/brands"
import { PostAdminCreateBrandType } from "./validators"

// GET /admin/brands?external_id=&name=&id=&limit=&offset=&fields=&order= -> {brands, count, limit, offset}
export const GET = async (req: MedusaRequest, res: MedusaResponse) => {
  const query = req.scope.resolve(ContainerRegistrationKeys.QUERY)
  const {
    data: brands,
    metadata: { count, take, skip } = {},
  } = await query.graph({
    entity: "brand",
    ...req.queryConfig,
    filters: req.filterableFields,
  })
  res.json({ brands, count, limit: take, offset: skip })
}

// POST /admin/brands {name, external_id?} -> {brand}
export const POST = async (
  req: MedusaRequest<PostAdminCreateBrandType>,
  res: MedusaResponse
) => {
  const { result } = await createBrandWorkflow(req.scope).run({
    input: req.validatedBody,
  })
  res.json({ brand: result })
}
