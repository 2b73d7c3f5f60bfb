-- Demo data: five ingredient rows per meal ($1 meals), 2,000 distinct ingredients.
INSERT INTO meal_ingredients (meal_id, ingredient, quantity)
SELECT 1 + (g % $1::bigint),
       'ingredient_' || ((g * 31) % 2000),
       ((g % 500) / 10.0)::numeric
FROM generate_series(1, 5 * $1::bigint) AS g
