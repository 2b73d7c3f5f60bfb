--
-- Remove field legacy_code from product
--
ALTER TABLE "shop_product" DROP COLUMN "legacy_code" CASCADE;
--
-- Rename field status on order to state
--
ALTER TABLE "shop_order" RENAME COLUMN "status" TO "state";
--
-- Create index shop_order_user_id_9f1a2b_idx on field(s) user, -created_at of model order
--
CREATE INDEX "shop_order_user_id_9f1a2b_idx" ON "shop_order" ("user_id", "created_at" DESC);
