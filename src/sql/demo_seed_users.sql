-- Demo data: 5,000 users.
INSERT INTO users (email, name, created_at)
SELECT 'user' || g || '@example.com',
       'User ' || g,
       now() - (g % 1000) * interval '1 hour'
FROM generate_series(1, 5000) AS g
