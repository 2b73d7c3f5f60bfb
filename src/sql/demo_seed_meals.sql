-- Demo data: $1 meals spread over the users, a third of each difficulty.
INSERT INTO meals (user_id, name, description, difficulty, created_at)
SELECT 1 + (g * 7919) % 5000,
       'Meal ' || g,
       'A tasty dish, recipe number ' || g || ' of the house collection',
       (ARRAY['easy', 'medium', 'hard'])[1 + g % 3],
       now() - (g % 50000) * interval '1 minute'
FROM generate_series(1, $1::bigint) AS g
