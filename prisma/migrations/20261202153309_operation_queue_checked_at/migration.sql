-- AlterTable
ALTER TABLE "operations" ADD COLUMN     "queue_checked_at" TIMESTAMP(3);
