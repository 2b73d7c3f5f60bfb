--
-- Add field note to order
--
ALTER TABLE "shop_order" ADD COLUMN "note" text DEFAULT '' NOT NULL;
ALTER TABLE "shop_order" ALTER COLUMN "note" DROP DEFAULT;
--
-- Add field is_active to product
--
ALTER TABLE "shop_product" ADD COLUMN "is_active" boolean DEFAULT true NOT NULL;
ALTER TABLE "shop_product" ALTER COLUMN "is_active" DROP DEFAULT;
