--
-- Alter field name on product
--
ALTER TABLE "shop_product" ALTER COLUMN "name" TYPE varchar(255);
--
-- Alter field price on product
--
ALTER TABLE "shop_product" ALTER COLUMN "price" TYPE numeric(12, 2);
--
-- Alter field quantity on order
--
ALTER TABLE "shop_order" ALTER COLUMN "quantity" TYPE bigint USING "quantity"::bigint;
