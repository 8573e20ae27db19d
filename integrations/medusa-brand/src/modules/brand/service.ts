import { MedusaService } from "@medusajs/framework/utils"
import { Brand } from "./models/brand"

// listBrands, listAndCountBrands, retrieveBrand, createBrands, updateBrands, deleteBrands, ...
class BrandModuleService extends MedusaService({ Brand }) {}

export default BrandModuleService
