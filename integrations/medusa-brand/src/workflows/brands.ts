import {
  createStep,
  createWorkflow,
  StepResponse,
  WorkflowResponse,
} from "@medusajs/framework/workflows-sdk"
import { BRAND_MODULE } from "../modules/brand"
import BrandModuleService from "../modules/brand/service"

export type CreateBrandInput = {
  name: string
  external_id?: string | null
}

export type UpdateBrandInput = {
  id: string
  name?: string
  external_id?: string | null
}

const createBrandStep = createStep(
  "create-brand-step",
  async (input: CreateBrandInput, { container }) => {
    const brands: BrandModuleService = container.resolve(BRAND_MODULE)
    const brand = await brands.createBrands(input)
    return new StepResponse(brand, brand.id)
  },
  async (id: string | undefined, { container }) => {
    if (!id) {
      return
    }
    const brands: BrandModuleService = container.resolve(BRAND_MODULE)
    await brands.deleteBrands(id)
  }
)

const updateBrandStep = createStep(
  "update-brand-step",
  async (input: UpdateBrandInput, { container }) => {
    const brands: BrandModuleService = container.resolve(BRAND_MODULE)
    const before = await brands.retrieveBrand(input.id) // throws not_found for an unknown id
    const brand = await brands.updateBrands(input)
    return new StepResponse(brand, {
      id: before.id,
      name: before.name,
      external_id: before.external_id,
    })
  },
  async (before: UpdateBrandInput | undefined, { container }) => {
    if (!before) {
      return
    }
    const brands: BrandModuleService = container.resolve(BRAND_MODULE)
    await brands.updateBrands(before)
  }
)

export const createBrandWorkflow = createWorkflow(
  "create-brand",
  (input: CreateBrandInput) => new WorkflowResponse(createBrandStep(input))
)

export const updateBrandWorkflow = createWorkflow(
  "update-brand",
  (input: UpdateBrandInput) => new WorkflowResponse(updateBrandStep(input))
)
