import { z } from "@medusajs/framework/zod"
import { createFindParams } from "@medusajs/medusa/api/utils/validators"

const oneOrMany = z.union([z.string(), z.array(z.string())]).optional()

// Medusa validates list queries strictly: these are the filters GET /admin/brands accepts.
export const GetBrandsSchema = createFindParams().merge(
  z.object({
    id: oneOrMany,
    name: oneOrMany,
    external_id: oneOrMany,
  })
)

export const PostAdminCreateBrand = z.object({
  name: z.string().min(1),
  external_id: z.string().min(1).nullish(),
})

export const PostAdminUpdateBrand = z.object({
  name: z.string().min(1).optional(),
  external_id: z.string().min(1).nullish(),
})

export type PostAdminCreateBrandType = z.infer<typeof PostAdminCreateBrand>
export type PostAdminUpdateBrandType = z.infer<typeof PostAdminUpdateBrand>
