-- AlterEnum
ALTER TYPE "OperationKind" ADD VALUE 'import';

-- AlterTable
ALTER TABLE "iscsi_luns" ADD COLUMN     "template" BOOLEAN NOT NULL DEFAULT false;
