export * from './aes-gcm-secret-box';
export * from './sealing-key';
