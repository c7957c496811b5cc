'use strict';

// fail always throws, so that users see an event end FAILED with its error
// after its retries (retryNum in serverless.yml.example).

exports.main_handler = async (event, context) => {
  const source = (event && event.source) || 'cos://media/missing-4k.mov';
  console.log(`fail: opening ${source}`);
  throw new Error(`source file not found: ${source}`);
};
