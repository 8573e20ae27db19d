import { MedusaRequest, MedusaResponse } from "@medusajs/framework/http"
import { ContainerRegistrationKeys, MedusaError } from "@medusajs/framework/utils"
import { updateBrandWorkflow } from "../../../../workflows/brands"
import { PostAdminUpdateBrandType } from "../validators"

async function retrieve(req: MedusaRequest, id: string) {
  const query = req.scope.resolve(ContainerRegistrationKeys.QUERY)
  const { data } = await query.graph({
    entity: "brand",
    fields: ["id", "name", "external_id", "created_at", "updated_at"],
    filters: { id },
  })
  if (!data.length) {
    throw new MedusaError(MedusaError.Types.NOT_FOUND, `Brand with id: ${id} was not found`)
  }
  return data[0]
}

// GET /admin/brands/:id -> {brand}
export const GET = async (req: MedusaRequest, res: MedusaResponse) => {
  res.json({ brand: await retrieve(req, req.params.id) })
}

// POST /admin/brands/:id {name?, external_id?} -> {brand}
export const POST = async (
  req: MedusaRequest<PostAdminUpdateBrandType>,
  res: MedusaResponse
) => {
  await retrieve(req, req.params.id)
  const { result } = await updateBrandWorkflow(req.scope).run({
    input: { id: req.params.id, ...req.validatedBody },
  })
  res.json({ brand: result })
}
