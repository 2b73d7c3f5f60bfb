-- AlterEnum
ALTER TYPE "Role" ADD VALUE 'EDITOR';

-- AlterTable
ALTER TABLE "Post" ALTER COLUMN "published" SET DEFAULT true;
