import { model } from "@medusajs/framework/utils"

// A brand, as in Medusa's Brand Module tutorial, plus `external_id`: the id the brand has in the system
// it is synced from (catalog-sync names a connection's brand `pixlpay_brand_<slug>`), unique when set.
export const Brand = model.define("brand", {
  id: model.id({ prefix: "brand" }).primaryKey(),
  name: model.text().searchable(),
  external_id: model.text().unique().nullable(),
})
