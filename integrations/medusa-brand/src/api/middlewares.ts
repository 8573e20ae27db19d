import {
  defineMiddlewares,
  validateAndTransformBody,
  validateAndTransformQuery,
} from "@medusajs/framework/http"
import { z } from "@medusajs/framework/zod"
import {
  GetBrandsSchema,
  PostAdminCreateBrand,
  PostAdminUpdateBrand,
} from "./admin/brands/validators"

// `additional_data.brand_id` on product create/update: a brand id links it, null removes the brand.
const brandData = { brand_id: z.string().nullish() }

export default defineMiddlewares({
  routes: [
    {
      matcher: "/admin/brands",
      method: "GET",
      middlewares: [
        validateAndTransformQuery(GetBrandsSchema, {
          defaults: ["id", "name", "external_id", "created_at", "updated_at"],
          isList: true,
        }),
      ],
    },
    {
      matcher: "/admin/brands",
      method: "POST",
      middlewares: [validateAndTransformBody(PostAdminCreateBrand)],
    },
    {
      matcher: "/admin/brands/:id",
      method: "POST",
      middlewares: [validateAndTransformBody(PostAdminUpdateBrand)],
    },
    { matcher: "/admin/products", method: ["POST"], additionalDataValidator: brandData },
    { matcher: "/admin/products/:id", method: ["POST"], additionalDataValidator: brandData },
  ],
})
