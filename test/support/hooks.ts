// Root hooks: nothing global yet beyond making unhandled rejections fail loudly.
process.on('unhandledRejection', (e) => {
  console.error('unhandled rejection in test', e);
});
