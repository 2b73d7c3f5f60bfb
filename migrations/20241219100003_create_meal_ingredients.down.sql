DROP TABLE IF EXISTS meal_ingredients;
