-- AlterTable
ALTER TABLE "Post" ALTER COLUMN "title" SET DATA TYPE VARCHAR(200);

-- CreateIndex
CREATE INDEX "Post_authorId_idx" ON "Post"("authorId");
