-- Meals created by users. meals.user_id has no index of its own (doctor reports it).
CREATE TABLE IF NOT EXISTS meals (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     bigint      NOT NULL REFERENCES users (id),
    name        text        NOT NULL,
    description text        NOT NULL DEFAULT '',
    difficulty  text        NOT NULL CHECK (difficulty IN ('easy', 'medium', 'hard')),
    created_at  timestamptz NOT NULL DEFAULT now()
);
