-- no-transaction
--
-- Concurrently create index shop_order_created_6b1c2e_idx on field(s) created_at of model order
--
CREATE INDEX CONCURRENTLY "shop_order_created_6b1c2e_idx" ON "shop_order" ("created_at");
